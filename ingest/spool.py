"""Readings waiting for the database: an append-only file of batches, replayed in order, held in memory while
the disk cannot take them, locked to one collector, and capped in size.

Over a cap (the file's, or memory's while the disk is unusable) the oldest gauge readings are dropped first.
Counter readings are never dropped: each one carries the meter's total, so they are what the energy figures
are computed from, while a gauge reading only details a moment.
"""

import fcntl
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)

MEMORY_CAP = 100_000  # readings held in memory while the disk is unusable (about 15 MB)
DISK_RETRY = 10.0  # seconds between attempts to write to a failing disk
FAILURE_LOG_EVERY = 60.0


class Reading(NamedTuple):
    """One value of one metric at one moment."""

    ts: datetime
    metric: str
    value: float


class SpoolInUse(Exception):
    """Another collector holds this spool."""


class Spool:
    """Batches of readings: on disk (one JSON line each, synced before append() returns), or in memory after
    them while the disk fails. cap_bytes 0 means no cap."""

    def __init__(self, path: Path, cap_bytes: int = 0, memory_cap: int = MEMORY_CAP, clock=time.monotonic):
        self.path, self.cap_bytes, self.memory_cap, self.clock = path, cap_bytes, memory_cap, clock
        self.is_gauge: Callable[[str], bool] = lambda metric: False  # unknown kinds are kept, as counters
        self.memory: list[list[Reading]] = []
        self.lock_file = None
        self.memory_readings, self.batches, self.readings, self.oldest, self.size = 0, 0, 0, None, 0
        self.compact_at, self.memory_limit, self.torn = cap_bytes, memory_cap, False
        self.failing_since, self.retry_at, self.failure_logged_at = None, -math.inf, -math.inf
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._lock()
            if path.is_file():
                self._end_torn_line()
                self.size = path.stat().st_size
                for batch in self.read():  # what an earlier run left behind
                    self._count(batch)
        except OSError as error:
            self._failed(error)
        if self.batches:
            log.warning("spool %s holds %d readings from an earlier run: replaying when the database answers",
                        path, self.readings)

    def _lock(self) -> None:
        """Hold the spool's lock file for the life of the process (the kernel releases it on exit)."""
        self.lock_file = (self.path.parent / f"{self.path.name}.lock").open("a+")
        try:
            fcntl.flock(self.lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.lock_file.seek(0)
            holder = self.lock_file.read().strip() or "unknown"
            self.close()
            raise SpoolInUse(f"spool {self.path} is in use by another collector (pid {holder}): give each "
                             f"collector its own spool directory (--spool-dir or SPOOL_DIR)") from None
        self.lock_file.truncate(0)
        self.lock_file.write(f"{os.getpid()}\n")
        self.lock_file.flush()

    def _end_torn_line(self) -> None:
        """End a line left unfinished by a crash, so the next batch does not join it."""
        if self.path.stat().st_size:
            with self.path.open("rb+") as handle:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    handle.write(b"\n")

    def _count(self, batch: list[Reading]) -> None:
        """Track size and age for the log."""
        self.batches += 1
        self.readings += len(batch)
        if batch and self.oldest is None:
            self.oldest = batch[0].ts

    def append(self, batch: list[Reading]) -> None:
        """Add a batch: durably on disk, or in memory while the disk fails. Never raises."""
        self.memory.append(batch)
        self.memory_readings += len(batch)
        self._count(batch)
        if self.clock() >= self.retry_at:
            try:
                self._write_memory()
            except OSError as error:
                self.retry_at = self.clock() + DISK_RETRY
                self._failed(error)
        if self.memory_readings > self.memory_limit:
            self._thin_memory()
        if self.cap_bytes and self.size > self.compact_at and not self.memory:
            self._compact()

    def _write_memory(self) -> None:
        """Move the batches held in memory to the end of the file."""
        lines = "".join(encode(batch) for batch in self.memory)
        with self.path.open("a") as handle:
            end = handle.tell()
            try:
                handle.write(("\n" if self.torn else "") + lines)
                handle.flush()
                os.fsync(handle.fileno())
            except OSError:
                try:
                    handle.truncate(end)  # a disk that filled up mid-write keeps no half line
                except OSError:
                    self.torn = True
                raise
            self.size = handle.tell()
        self.torn = False
        self.memory.clear()
        self.memory_readings, self.memory_limit = 0, self.memory_cap
        if self.failing_since is not None:
            log.warning("spool %s is writable again after %.0f s", self.path, self.clock() - self.failing_since)
            self.failing_since = None

    def _failed(self, error: OSError) -> None:
        """Say that the spool cannot be written, and what happens meanwhile; at most once a minute."""
        if self.failing_since is None:
            self.failing_since = self.clock()
        if self.clock() - self.failure_logged_at >= FAILURE_LOG_EVERY:
            self.failure_logged_at = self.clock()
            log.error("spool %s unusable (%s: %s): %d readings held in memory (cap %d, then the oldest gauge "
                      "readings go)", self.path, type(error).__name__, error.strerror or error, self.memory_readings,
                      self.memory_cap)

    def _thin_memory(self) -> None:
        """Drop the oldest gauge readings held in memory, down to three quarters of its cap."""
        excess, dropped = self.memory_readings - self.memory_cap * 3 // 4, 0
        for batch in self.memory:
            if dropped >= excess:
                break
            dropped += drop_gauges(batch, excess - dropped, self.is_gauge)
        self.memory = [batch for batch in self.memory if batch]
        self.memory_readings -= dropped
        self.readings -= dropped
        self.memory_limit = max(self.memory_cap, self.memory_readings * 5 // 4)  # counters alone may exceed it
        self._dropped(dropped, f"memory over its cap of {self.memory_cap:,} readings")

    def _compact(self) -> None:
        """Rewrite the file without its oldest gauge readings, down to three quarters of the cap; streamed,
        since the file can be far larger than memory should hold."""
        excess = math.ceil((self.size - self.cap_bytes * 3 / 4) / (self.size / max(self.readings, 1)))
        batches, readings, oldest = 0, 0, None
        scratch = self.path.with_name(f"{self.path.name}.compacting")
        try:
            with scratch.open("w") as handle:
                for batch in self.read():
                    excess -= drop_gauges(batch, excess, self.is_gauge)
                    if batch:
                        handle.write(encode(batch))
                        batches, readings, oldest = batches + 1, readings + len(batch), oldest or batch[0].ts
                handle.flush()
                os.fsync(handle.fileno())
                size = handle.tell()
            os.replace(scratch, self.path)
        except OSError as error:
            log.error("spool %s could not be compacted (%s): left as it is", self.path, error)
            scratch.unlink(missing_ok=True)
            return
        dropped, self.batches, self.readings, self.oldest = self.readings - readings, batches, readings, oldest
        self.size, self.compact_at = size, max(self.cap_bytes, size * 5 // 4)
        self._dropped(dropped, f"file over its cap of {self.cap_bytes / 2**20:g} MB")

    def _dropped(self, count: int, why: str) -> None:
        """Say what the cap cost."""
        if count:
            log.warning("spool %s %s: dropped its %d oldest gauge readings (counter readings are all kept; %d "
                        "readings wait)", self.path, why, count, self.readings)
        else:
            log.warning("spool %s %s, but holds no gauge readings to drop (counters are kept; the kinds are known "
                        "once the database has answered): %d readings wait", self.path, why, self.readings)

    def read(self) -> Iterator[list[Reading]]:
        """Every batch, oldest first: the file's (read as needed: an outage spools more than memory should
        hold; a line cut short by a crash is skipped with a warning), then memory's."""
        if self.path.is_file():
            with self.path.open() as handle:
                for number, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue
                    try:
                        rows = json.loads(line)
                        yield [Reading(datetime.fromisoformat(ts), metric, value) for ts, metric, value in rows]
                    except (ValueError, TypeError):
                        log.warning("spool %s line %d is damaged (cut short by a crash?): skipped", self.path, number)
        yield from list(self.memory)

    def clear(self) -> None:
        """Forget everything once it is stored."""
        if self.path.is_file():
            try:
                self.path.unlink()
            except OSError as error:  # replayed again later: the database absorbs what it already has
                self._failed(error)
        self.memory.clear()
        self.memory_readings, self.batches, self.readings, self.oldest, self.size = 0, 0, 0, None, 0
        self.compact_at, self.memory_limit = self.cap_bytes, self.memory_cap

    def close(self) -> None:
        """Let another collector have the spool."""
        if self.lock_file is not None:
            self.lock_file.close()
            self.lock_file = None

    def __bool__(self) -> bool:
        return self.batches > 0


def drop_gauges(batch: list[Reading], count: int, is_gauge: Callable[[str], bool]) -> int:
    """Remove up to `count` gauge readings from the start of a batch, in place; returns how many went."""
    if count <= 0:
        return 0
    kept, dropped = [], 0
    for reading in batch:
        if dropped < count and is_gauge(reading.metric):
            dropped += 1
        else:
            kept.append(reading)
    batch[:] = kept
    return dropped


def encode(batch: list[Reading]) -> str:
    """One line of the file."""
    return json.dumps([[r.ts.isoformat(), r.metric, r.value] for r in batch], separators=(",", ":")) + "\n"
