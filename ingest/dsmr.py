"""python -m ingest.dsmr: read P1 telegrams of a Fluvius (or Dutch DSMR 5) meter from a smartmeterBridge TCP stream."""

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from ingest import obis, options
from ingest.backoff import reconnect_forever
from ingest.framer import Framer
from ingest.rejections import Rejections, describe
from ingest.telegram import SPECS, Spec, TelegramError, parse, readings
from ingest.writer import Writer
from stack import cli

log = logging.getLogger("ingest.dsmr")
STATS_EVERY = 300.0
CONNECT_TIMEOUT = 10.0


class Collector:
    """Frames, checks, parses and writes telegrams; counts what it rejects and why. Nothing a peer sends ends it."""

    def __init__(self, writer: Writer, spec: Spec, now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.writer, self.spec, self.now = writer, spec, now
        self.received, self.stored, self.spooled = 0, 0, 0  # telegrams
        self.rejections = Rejections(log, "DSMR input")
        self.stats_at = time.monotonic()

    async def handle(self, frame: bytes) -> None:
        """Store the readings of one framed telegram, or count and log why not; never raises."""
        self.received += 1
        try:
            telegram, unreadable = parse(frame, self.spec)
            batch, skipped = readings(telegram, self.spec, self.now())
            for error in unreadable + skipped:
                self.rejections.add(error.reason, error.detail)
            if batch:
                if await self.writer.write(batch):
                    self.stored += 1
                else:
                    self.spooled += 1
        except TelegramError as error:
            self.rejections.add(error.reason, error.detail)
        except Exception as error:  # a bug must cost one telegram, never the collector
            reason = f"unexpected {type(error).__name__}"
            if reason not in self.rejections.total:
                log.exception("unexpected error on a telegram (a bug; the telegram is skipped)")
            self.rejections.add(reason, str(error))

    def count_noise(self, framer: Framer, noise_bytes: int, unfinished: int) -> None:
        """Count what the framer dropped since the last look."""
        noise, cut = framer.noise_bytes - noise_bytes, framer.unfinished - unfinished
        self.rejections.add("bytes of noise", f"{noise:,} bytes outside any complete telegram", noise)
        self.rejections.add("unfinished telegrams", f"{cut} telegram starts without their end (cut short, or far "
                            "too long)", cut)

    def tick(self) -> None:
        """Summaries: rejections once a minute at most, telegram counts every few minutes."""
        self.rejections.summarise()
        if time.monotonic() - self.stats_at >= STATS_EVERY:
            self.stats_at = time.monotonic()
            self.report()

    def report(self) -> None:
        """Telegram counts and every rejection since the start."""
        log.info("telegrams received: %d, stored: %d, spooled: %d; rejected since start: %s", self.received,
                 self.stored, self.spooled, describe(self.rejections.total) or "nothing")

    async def follow(self, host: str, port: int, silence: float) -> None:
        """Read telegrams from one connection until it closes or goes silent."""
        try:  # asyncio.timeout, not wait_for, which can swallow a cancellation in Python 3.11 (see ingest.writer)
            async with asyncio.timeout(CONNECT_TIMEOUT):
                reader, writer = await asyncio.open_connection(host, port)
        except TimeoutError:
            raise TimeoutError(f"no answer from {host}:{port} within {CONNECT_TIMEOUT:.0f} s") from None
        log.info("connected to the bridge at %s:%d", host, port)
        framer = Framer()
        try:
            while True:
                try:
                    async with asyncio.timeout(silence):
                        data = await reader.read(65536)
                except TimeoutError:
                    raise TimeoutError(f"no data for {silence:g} s") from None
                if not data:
                    raise ConnectionError("the bridge closed the connection")
                noise_bytes, unfinished = framer.noise_bytes, framer.unfinished
                for frame in framer.feed(data):
                    await self.handle(frame)
                self.count_noise(framer, noise_bytes, unfinished)
                self.tick()
        finally:
            writer.close()
            self.tick()

    async def run(self, host: str, port: int, silence: float) -> None:
        """Follow the bridge, reconnecting with backoff, and replay the spool, forever."""
        await asyncio.gather(
            reconnect_forever(lambda: self.follow(host, port, silence), lambda: self.received, (OSError,), log,
                              "bridge connection"),
            self.writer.keep_replaying())


def main(argv: list[str] | None = None) -> None:
    """Parse options and collect until interrupted."""
    parser = options.parser("Read P1 telegrams of a Fluvius meter from a smartmeterBridge and store them.")
    parser.add_argument("--host", action=options.EnvDefault, env="DSMR_HOST", help="the bridge's address")
    parser.add_argument("--port", action=options.EnvDefault, env="DSMR_PORT", default=9988,
                        type=options.port, help="the bridge's TCP port")
    parser.add_argument("--silence-timeout", action=options.EnvDefault, env="DSMR_SILENCE_TIMEOUT", default=10.0,
                        type=options.positive(), help="reconnect after this many seconds without data")
    parser.add_argument("--spec", action=options.EnvDefault, env="DSMR_SPEC", default="fluvius", choices=SPECS,
                        help="the meter's specification: fluvius (Belgium, e-MUCS) or dsmr5 (the Netherlands); "
                             "telegrams of another one are rejected")
    args = parser.parse_args(argv)
    if not args.host:
        parser.error("no bridge address: set DSMR_HOST or pass --host")
    if args.spec not in SPECS:  # a value from the environment is not checked against the choices
        parser.error(f"DSMR_SPEC must be one of {', '.join(SPECS)}, got {args.spec!r}")
    options.setup_logging(args.log_level)
    collector = Collector(options.writer(args, "dsmr", obis.METRICS), SPECS[args.spec])
    try:
        asyncio.run(collector.run(args.host, args.port, args.silence_timeout))
    except KeyboardInterrupt:
        collector.report()
        log.info("stopped")


if __name__ == "__main__":
    cli.run(main)
