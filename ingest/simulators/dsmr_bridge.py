"""python -m ingest.simulators.dsmr_bridge: a smartmeterBridge in front of a simulated Fluvius meter.

Like the real bridge it sends every telegram to every connected client, never reads from them and never checks
anything; options inject the faults seen in the field and the installations real meters have. DSMR_SIMULATOR_ARGS
adds options from the environment (so `make run` can show them), e.g. "--heat-meter --placeholder-every 10".
"""

import argparse
import asyncio
import dataclasses
import itertools
import logging
import random
import shlex
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingest.options import EnvDefault, Parser, positive, setup_logging
from ingest.simulators.household import Household
from ingest.simulators.p1 import Variant, telegram
from stack import cli, settings

log = logging.getLogger("simulators.dsmr_bridge")


class Faults:
    """Which telegrams to spoil, and how."""

    def __init__(self, args: argparse.Namespace, seed: int = 7):
        self.args, self.rng, self.count = args, random.Random(seed), 0

    def spoil(self, data: bytes) -> bytes:
        """The bytes to send for the next telegram."""
        self.count += 1
        a = self.args
        if a.bad_crc_every and self.count % a.bad_crc_every == 0:
            data = data.replace(b"1-0:1.8.1(0", b"1-0:1.8.1(9", 1)  # content changed, CRC kept
        if a.non_ascii_every and self.count % a.non_ascii_every == 0:
            data = data.replace(b"0-0:96.3.10(1)", b"0-0:96.3.10(\xe9)", 1)
        if a.garbage_every and self.count % a.garbage_every == 0:
            data = bytes(self.rng.randrange(256) for _ in range(self.rng.randint(1, 300))) + data
        if a.truncate_every and self.count % a.truncate_every == 0:
            data = data[: len(data) // 2]
        return data

    def drop_now(self) -> bool:
        """Whether to close every connection after this telegram."""
        return bool(self.args.drop_every) and self.count % self.args.drop_every == 0


class Bridge:
    """Accepts any number of clients and sends them every telegram."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.clients: set[asyncio.StreamWriter] = set()
        self.faults = Faults(args)
        self.variant = Variant(dutch=args.dutch, empty_slot=args.empty_slot, second_gas=args.second_gas,
                               heat=args.heat_meter)

    async def serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Keep a client until it goes away (its data is ignored, like the real bridge does)."""
        self.clients.add(writer)
        log.info("client connected: %s", writer.get_extra_info("peername"))
        try:
            while await reader.read(4096):
                pass
        except (OSError, asyncio.CancelledError):
            pass  # the client went away, or we are shutting down
        finally:
            self.clients.discard(writer)
            writer.close()

    async def send(self, data: bytes) -> None:
        """Send to every client, split into small pieces when asked."""
        pieces = [data]
        if self.args.split:
            cuts = sorted(self.faults.rng.sample(range(1, len(data)), 4))
            pieces = [data[i:j] for i, j in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        for piece in pieces:
            for client in list(self.clients):
                if client.transport.get_write_buffer_size() > 1 << 20:
                    client.close()  # a client that stopped reading
                    self.clients.discard(client)
                else:
                    client.write(piece)
            if self.args.split:
                await asyncio.sleep(0.005)

    def telegrams(self):
        """The telegrams to send: a replayed file, or the simulated household."""
        if self.args.replay:
            frame = self.args.replay.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            while True:
                yield frame
        house = Household(now=self.start(), panels_peak=self.args.panels_peak)
        for count in itertools.count(1):
            house.advance(self.args.step or self.args.interval)
            yield telegram(house, dataclasses.replace(
                self.variant, placeholder=every(self.args.placeholder_every, count),
                implausible=every(self.args.implausible_every, count)))

    def start(self) -> datetime:
        """The meter's first time: now, or a day ago when its clock runs faster than real time, so that its
        telegrams do not come from the future (which the collector refuses)."""
        now = datetime.now(UTC).replace(microsecond=0)
        faster = self.args.step and self.args.step > self.args.interval
        return now - timedelta(days=1) if faster else now

    async def run(self, host: str, port: int) -> None:
        """Serve clients and send a telegram every interval."""
        server = await asyncio.start_server(self.serve_client, host, port)
        log.info("bridge simulator listening on %s:%d", host, server.sockets[0].getsockname()[1])
        async with server:
            for data in self.telegrams():
                await self.send(self.faults.spoil(data))
                if self.faults.drop_now():
                    for client in list(self.clients):
                        client.close()
                    self.clients.clear()
                await asyncio.sleep(self.args.interval)


def every(n: int, count: int) -> bool:
    """Whether the count-th telegram is one of every n-th (never when n is 0)."""
    return bool(n) and count % n == 0


def main(argv: list[str] | None = None) -> None:
    """Parse options and serve until interrupted."""
    settings.load_dotenv()
    parser = Parser("Simulate a smartmeterBridge in front of a Fluvius meter.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", action=EnvDefault, env="SIMULATOR_PORT", default=9988, type=int,
                        help="TCP port (0 picks a free one)")
    parser.add_argument("--interval", type=positive(), default=1.0, help="real seconds between telegrams")
    parser.add_argument("--step", type=positive(),
                        help="simulated seconds per telegram (default: the interval); a faster clock starts a day ago")
    parser.add_argument("--panels-peak", type=positive(), default=5400.0, help="peak power of the panels in W")
    parser.add_argument("--replay", type=Path, help="send this telegram file over and over instead")
    for fault, what in (("bad-crc", "a wrong CRC"), ("non-ascii", "a non-ASCII byte"),
                        ("garbage", "random bytes before it"), ("truncate", "only its first half"),
                        ("drop", "every connection closed after it")):
        parser.add_argument(f"--{fault}-every", type=int, default=0, metavar="N",
                            help=f"every Nth telegram gets {what}")
    parser.add_argument("--split", action="store_true", help="send each telegram in several small writes")
    for content, what in (("placeholder", "placeholder capture times (632525252525S/W) for gas and the peak"),
                          ("implausible", "CRC-correct impossible values (999999999.965 kWh, -99.999 kW)")):
        parser.add_argument(f"--{content}-every", type=int, default=0, metavar="N",
                            help=f"every Nth telegram carries {what}")
    parser.add_argument("--dutch", action="store_true", help="a Dutch DSMR 5 meter (header and version line)")
    parser.add_argument("--empty-slot", action="store_true", help="an empty M-Bus slot on channel 2 (1970, no unit)")
    parser.add_argument("--second-gas", action="store_true", help="a second gas meter on M-Bus channel 3")
    parser.add_argument("--heat-meter", action="store_true", help="a heat meter counting GJ on M-Bus channel 4")
    given = sys.argv[1:] if argv is None else argv
    args = parser.parse_args([*shlex.split(settings.text("DSMR_SIMULATOR_ARGS") or ""), *given])
    setup_logging(args.log_level)
    try:
        asyncio.run(Bridge(args).run(args.host, args.port))
    except KeyboardInterrupt:
        log.info("stopped")


if __name__ == "__main__":
    cli.run(main)
