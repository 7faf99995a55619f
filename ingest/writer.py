"""The write path every collector shares: one batch per telegram or poll, through the ingest role.

Readings outside the plausible ranges of the catalog are not stored (counted per reason). While the database
is unreachable, refuses, or does not answer within the write timeout, batches go to an on-disk spool; once it
answers again the spool is replayed in order before anything new (and judged then), and readings already stored
are absorbed by the (metric, ts) key.
"""

import asyncio
import logging
import math
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from ingest.backoff import Backoff
from ingest.plausible import CATALOG, Limits, Plausibility
from ingest.rejections import Rejections
from ingest.spool import Reading, Spool

log = logging.getLogger(__name__)

INSERT = """
INSERT INTO energy.raw_reading (ts, metric_id, value)
SELECT r.ts, m.id, r.value
FROM unnest(%(ts)s::timestamptz[], %(metric)s::text[], %(value)s::float8[]) AS r (ts, metric, value)
JOIN energy.metric m ON m.source = %(source)s AND m.name = r.metric
ON CONFLICT DO NOTHING
"""
REPLAY_CHUNK = 5000
SPOOL_LOG_EVERY = 60.0
WRITE_TIMEOUT = 10.0
SPOOL_CAP_MB = 500


class Writer:
    """Writes reading batches of one source; never raises on database or disk trouble, never drops a plausible
    reading (beyond the spool's documented cap)."""

    def __init__(self, url: str, source: str, spool_dir: Path, metrics: set[str], *,
                 write_timeout: float = WRITE_TIMEOUT, spool_cap_mb: float = SPOOL_CAP_MB, clock=time.monotonic):
        self.url, self.source, self.metrics, self.clock = url, source, metrics, clock
        self.timeout = write_timeout
        self.spool = Spool(spool_dir / f"{source}.jsonl", int(spool_cap_mb * 2**20), clock=clock)
        self.plausibility = Plausibility()
        self.rejections = Rejections(log, f"{source} readings", clock=clock)
        self.conn: psycopg.AsyncConnection | None = None
        self.backoff, self.retry_at, self.logged_at = Backoff(), 0.0, -math.inf
        # The spool is cleared after a replay: nothing may be appended while one runs.
        self.spool_lock = asyncio.Lock()

    async def write(self, batch: list[Reading]) -> bool:
        """Store a batch now, or spool it (after what is already spooled) to replay later; True when it, and
        everything before it, is in the database."""
        batch = [r for r in batch if self._valid(r)]
        if not batch:
            return not self.spool
        async with self.spool_lock:
            if not self.spool and await self._insert(batch):
                return True
            self.spool.append(batch)
        stored = await self.replay()
        self._log_spool()
        return stored

    async def replay(self) -> bool:
        """Replay the spool in order when the database answers; True when nothing is left in it."""
        async with self.spool_lock:
            return await self._replay()

    async def _replay(self) -> bool:
        """Replay while holding the spool lock."""
        if not self.spool:
            return True
        if self.clock() < self.retry_at:
            return False
        started, replayed, chunk = time.perf_counter(), 0, []
        try:
            for batch in self.spool.read():
                chunk += batch
                if len(chunk) >= REPLAY_CHUNK:
                    if not await self._insert(chunk):
                        return False
                    replayed, chunk = replayed + len(chunk), []
        except OSError as error:
            log.error("spool %s cannot be read (%s): kept for a later try", self.spool.path, error)
            return False
        if chunk and not await self._insert(chunk):
            return False
        replayed += len(chunk)
        log.info("spool replayed: %d readings in %.2f s", replayed, time.perf_counter() - started)
        self.spool.clear()
        return True

    async def keep_replaying(self, every: float = 5.0) -> None:
        """Replay the spool in the background, so it empties even while the device is silent."""
        while True:
            await asyncio.sleep(every)
            await self.replay()
            self.rejections.summarise()

    def _valid(self, reading: Reading) -> bool:
        """A reading the table (and the spool) accepts: a known metric, a finite float, a time zone."""
        try:
            if (reading.metric in self.metrics and type(reading.value) in (float, int)
                    and math.isfinite(reading.value) and reading.ts.tzinfo is not None):
                return True
        except (AttributeError, TypeError):
            pass
        self.rejections.add("invalid", f"{reading}")
        return False

    def _plausible(self, readings: list[Reading]) -> list[Reading]:
        """The readings within their metric's range, the others counted."""
        accepted = []
        for reading in readings:
            if problem := self.plausibility.problem(reading):
                self.rejections.add(*problem)
            else:
                accepted.append(reading)
        return accepted

    async def _connect(self) -> psycopg.AsyncConnection:
        """Open the connection, read the catalog's limits and check that it knows our metrics."""
        conn = await psycopg.AsyncConnection.connect(
            self.url, autocommit=True, connect_timeout=max(1, round(self.timeout)),
            options=f"-c statement_timeout={round(self.timeout * 1000)}")
        rows = await (await conn.execute(CATALOG, (self.source,))).fetchall()
        self.plausibility.limits = {name: Limits(*limits) for name, *limits in rows}
        kinds = {name: limits.kind for name, limits in self.plausibility.limits.items()}
        self.spool.is_gauge = lambda metric: kinds.get(metric) == "gauge"
        if missing := self.metrics - kinds.keys():
            log.error("metrics unknown to energy.metric (run make migrate?): %s", ", ".join(sorted(missing)))
        log.info("connected to the database")
        return conn

    async def _insert(self, readings: list[Reading]) -> bool:
        """One INSERT of the plausible readings; False (and a retry time set) when the database cannot take
        them in time."""
        if self.clock() < self.retry_at:
            return False
        try:
            # asyncio.timeout, not wait_for: in Python 3.11 wait_for swallows a cancellation (Ctrl-C, a caller's
            # own timeout) that arrives as the statement completes, and the collector would then never stop.
            if self.conn is None or self.conn.closed:
                async with asyncio.timeout(self.timeout):
                    self.conn = await self._connect()
            if accepted := self._plausible(readings):
                async with asyncio.timeout(self.timeout):
                    await self.conn.execute(INSERT, {
                        "ts": [r.ts for r in accepted], "metric": [r.metric for r in accepted],
                        "value": [r.value for r in accepted], "source": self.source})
        except (psycopg.Error, TimeoutError) as error:
            await self._failed(error)
            return False
        self.backoff.reset()
        return True

    async def _failed(self, error: Exception) -> None:
        """Drop the connection, note the failure and back off before the next try."""
        if self.conn is not None:
            await self.conn.close()
            self.conn = None  # rebuilt on the next try
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if isinstance(error, TimeoutError):
            message = f"no answer within {self.timeout:g} s"
        delay = self.backoff.next()
        log.warning("database unavailable (%s): spooling, next try in %.0f s", message, delay)
        self.retry_at = self.clock() + delay

    def _log_spool(self) -> None:
        """Say how much is waiting and since when, at most once a minute."""
        if self.spool and self.clock() - self.logged_at >= SPOOL_LOG_EVERY:
            self.logged_at = self.clock()
            age = datetime.now(UTC) - self.spool.oldest if self.spool.oldest else None
            log.warning("spool: %d readings in %d batches waiting, oldest %s ago",
                        self.spool.readings, self.spool.batches, age)

    async def close(self) -> None:
        """Close the connection and let go of the spool."""
        if self.conn is not None:
            await self.conn.close()
        self.spool.close()
