"""The write path every collector shares: one batch per telegram or poll, through the ingest role.

While the database is unreachable or refuses, batches go to an on-disk spool; once it answers again the spool
is replayed in order before anything new, and readings already stored are absorbed by the (metric, ts) key.
"""

import asyncio
import logging
import math
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from ingest.spool import Reading, Spool

log = logging.getLogger(__name__)

INSERT = """
INSERT INTO energy.raw_reading (ts, metric_id, value)
SELECT r.ts, m.id, r.value
FROM unnest(%(ts)s::timestamptz[], %(metric)s::text[], %(value)s::float8[]) AS r (ts, metric, value)
JOIN energy.metric m ON m.source = %(source)s AND m.name = r.metric
ON CONFLICT DO NOTHING
"""
CATALOG = "SELECT name FROM energy.metric WHERE source = %s"
REPLAY_CHUNK = 5000
RETRY_MAX = 30.0
SPOOL_LOG_EVERY = 60.0


class Writer:
    """Writes reading batches of one source; never raises on database trouble, never drops a valid reading."""

    def __init__(self, url: str, source: str, spool_dir: Path, metrics: set[str], clock=time.monotonic):
        self.url, self.source, self.metrics, self.clock = url, source, metrics, clock
        self.spool = Spool(spool_dir / f"{source}.jsonl")
        self.conn: psycopg.AsyncConnection | None = None
        self.retry_at, self.retry_delay, self.logged_at = 0.0, 1.0, -math.inf
        self.stored = 0
        # The spool is cleared after a replay: nothing may be appended while one runs.
        self.spool_lock = asyncio.Lock()

    async def write(self, batch: list[Reading]) -> None:
        """Store a batch now, or spool it (after what is already spooled) to replay later."""
        batch = [r for r in batch if self._valid(r)]
        if not batch:
            return
        async with self.spool_lock:
            if not self.spool and await self._insert(batch):
                return
            self.spool.append(batch)
        await self.replay()
        self._log_spool()

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
        for batch in self.spool.read():
            chunk += batch
            if len(chunk) >= REPLAY_CHUNK:
                if not await self._insert(chunk):
                    return False
                replayed, chunk = replayed + len(chunk), []
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

    def _valid(self, reading: Reading) -> bool:
        """A reading the table accepts: a known metric, a finite value, a time zone."""
        if reading.metric not in self.metrics or not math.isfinite(reading.value) or reading.ts.tzinfo is None:
            log.error("dropping invalid reading %s", reading)
            return False
        return True

    async def _connect(self) -> psycopg.AsyncConnection:
        """Open the connection and check that the catalog knows our metrics."""
        conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True, connect_timeout=5)
        known = {name for (name,) in await (await conn.execute(CATALOG, (self.source,))).fetchall()}
        if missing := self.metrics - known:
            log.error("metrics unknown to energy.metric (run make migrate?): %s", ", ".join(sorted(missing)))
        log.info("connected to the database")
        return conn

    async def _insert(self, readings: list[Reading]) -> bool:
        """One INSERT of the readings; False (and a retry time set) when the database cannot take them."""
        if self.clock() < self.retry_at:
            return False
        try:
            if self.conn is None or self.conn.closed:
                self.conn = await self._connect()
            await self.conn.execute(INSERT, {
                "ts": [r.ts for r in readings], "metric": [r.metric for r in readings],
                "value": [r.value for r in readings], "source": self.source})
        except psycopg.Error as error:
            if self.conn is not None:
                await self.conn.close()
                self.conn = None  # rebuilt on the next try
            self._failed(error)
            return False
        self.retry_delay = 1.0
        self.stored += len(readings)
        return True

    def _failed(self, error: psycopg.Error) -> None:
        """Note the failure and back off before the next try."""
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        log.warning("database unavailable (%s): spooling, next try in %.0f s", message, self.retry_delay)
        self.retry_at = self.clock() + self.retry_delay
        self.retry_delay = min(self.retry_delay * 2, RETRY_MAX)

    def _log_spool(self) -> None:
        """Say how much is waiting and since when, at most once a minute."""
        if self.spool and self.clock() - self.logged_at >= SPOOL_LOG_EVERY:
            self.logged_at = self.clock()
            age = datetime.now(UTC) - self.spool.oldest if self.spool.oldest else None
            log.warning("spool: %d readings in %d batches waiting, oldest %s ago",
                        self.spool.readings, self.spool.batches, age)

    async def close(self) -> None:
        """Close the connection."""
        if self.conn is not None:
            await self.conn.close()
