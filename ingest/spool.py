"""An append-only file of reading batches kept while the database cannot take them, replayed in order."""

import json
import logging
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)


class Reading(NamedTuple):
    """One value of one metric at one moment."""

    ts: datetime
    metric: str
    value: float


class Spool:
    """Batches of readings on disk, one JSON line each, flushed and synced before write() returns."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.batches, self.readings, self.oldest = 0, 0, None
        self._end_torn_line()
        for batch in self.read():  # what an earlier run left behind
            self._count(batch)
        if self.batches:
            log.warning("spool %s holds %d readings from an earlier run: replaying when the database answers",
                        path, self.readings)

    def _end_torn_line(self) -> None:
        """End a line left unfinished by a crash, so the next batch does not join it."""
        if self.path.exists() and self.path.stat().st_size:
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
        """Add a batch durably."""
        line = json.dumps([[r.ts.isoformat(), r.metric, r.value] for r in batch], separators=(",", ":"))
        with self.path.open("a") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._count(batch)

    def read(self) -> Iterator[list[Reading]]:
        """Every batch, oldest first, read as needed (a long outage spools more than memory should hold);
        a line cut short by a crash is skipped with a warning."""
        if not self.path.exists():
            return
        with self.path.open() as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    rows = json.loads(line)
                    yield [Reading(datetime.fromisoformat(ts), metric, value) for ts, metric, value in rows]
                except (ValueError, TypeError):
                    log.warning("spool %s line %d is damaged (cut short by a crash?): skipped", self.path, number)

    def clear(self) -> None:
        """Forget everything once it is stored."""
        self.path.unlink(missing_ok=True)
        self.batches, self.readings, self.oldest = 0, 0, None

    def __bool__(self) -> bool:
        return self.batches > 0
