"""python -m ingest.dsmr: read P1 telegrams of a Fluvius meter from a smartmeterBridge TCP stream."""

import asyncio
import logging
import time
from collections import Counter

from ingest import obis, options
from ingest.backoff import Backoff
from ingest.telegram import Framer, TelegramError, parse, readings
from ingest.writer import Writer
from stack import cli

log = logging.getLogger("ingest.dsmr")
STATS_EVERY = 300.0


class Collector:
    """Frames, checks, parses and writes telegrams; counts what it rejects and why."""

    def __init__(self, writer: Writer):
        self.writer = writer
        self.stored = 0
        self.rejected: Counter[str] = Counter()

    async def handle(self, frame: bytes | TelegramError) -> None:
        """Store one framed telegram, or count and log why not."""
        try:
            if isinstance(frame, TelegramError):
                raise frame
            batch = readings(parse(frame))
        except TelegramError as error:
            self.rejected[error.reason] += 1
            log.warning("telegram rejected (%s); rejected so far: %s", error, dict(self.rejected))
            return
        await self.writer.write(batch)
        self.stored += 1

    async def follow(self, host: str, port: int, silence: float) -> None:
        """Read telegrams from one connection until it closes or goes silent."""
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=10)
        log.info("connected to the bridge at %s:%d", host, port)
        framer = Framer()
        try:
            while True:
                data = await asyncio.wait_for(reader.read(65536), timeout=silence)
                if not data:
                    raise ConnectionError("the bridge closed the connection")
                for frame in framer.feed(data):
                    await self.handle(frame)
        finally:
            writer.close()

    async def run(self, host: str, port: int, silence: float) -> None:
        """Follow the bridge and replay the spool, forever."""
        await asyncio.gather(self.follow_forever(host, port, silence), self.writer.keep_replaying())

    async def follow_forever(self, host: str, port: int, silence: float) -> None:
        """Follow the bridge, reconnecting with backoff."""
        backoff = Backoff()
        stats_at = time.monotonic()
        while True:
            stored_before = self.stored
            try:
                await self.follow(host, port, silence)
            except TimeoutError:
                log.warning("no data from the bridge for %.0f s: reconnecting", silence)
            except OSError as error:
                log.warning("bridge connection: %s", error or type(error).__name__)
            if self.stored > stored_before:
                backoff.reset()
            if time.monotonic() - stats_at > STATS_EVERY:
                stats_at = time.monotonic()
                log.info("telegrams stored: %d, rejected: %s", self.stored, dict(self.rejected))
            await asyncio.sleep(backoff.next())


def main(argv: list[str] | None = None) -> None:
    """Parse options and collect until interrupted."""
    parser = options.parser("Read P1 telegrams of a Fluvius meter from a smartmeterBridge and store them.")
    parser.add_argument("--host", action=options.EnvDefault, env="DSMR_HOST", help="the bridge's address")
    parser.add_argument("--port", action=options.EnvDefault, env="DSMR_PORT", default=9988,
                        type=options.port, help="the bridge's TCP port")
    parser.add_argument("--silence-timeout", action=options.EnvDefault, env="DSMR_SILENCE_TIMEOUT", default=10.0,
                        type=options.positive(), help="reconnect after this many seconds without data")
    args = parser.parse_args(argv)
    if not args.host:
        parser.error("no bridge address: set DSMR_HOST or pass --host")
    options.setup_logging(args.log_level)
    writer = Writer(options.database_url(args), "dsmr", args.spool_dir, obis.METRICS)
    try:
        asyncio.run(Collector(writer).run(args.host, args.port, args.silence_timeout))
    except KeyboardInterrupt:
        log.info("stopped")


if __name__ == "__main__":
    cli.run(main)
