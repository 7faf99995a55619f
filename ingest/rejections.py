"""Counting what a collector refuses, and logging it without flooding the log: the first of each reason in
full, then one summary line per interval."""

import logging
import time
from collections import Counter

SUMMARY_EVERY = 60.0


class Rejections:
    """Counts per reason (total and since the last summary) and logs at a bounded rate."""

    def __init__(self, log: logging.Logger, what: str, every: float = SUMMARY_EVERY, clock=time.monotonic):
        self.log, self.what, self.every, self.clock = log, what, every, clock
        self.total: Counter[str] = Counter()
        self.pending: Counter[str] = Counter()
        self.summarised_at = clock()

    def add(self, reason: str, detail: str = "", count: int = 1) -> None:
        """Count a rejection; the first one of a reason is logged with its detail at once."""
        if count <= 0:
            return
        if reason not in self.total:
            self.log.warning("%s rejected (%s)%s; further ones are counted and summarised every %.0f s",
                             self.what, reason, f": {detail}" if detail else "", self.every)
        else:
            self.pending[reason] += count
        self.total[reason] += count
        self.summarise()

    def summarise(self) -> None:
        """Log what was counted since the last summary, once an interval has passed."""
        now = self.clock()
        if now - self.summarised_at < self.every:
            return
        if self.pending:
            self.log.warning("%s rejected in the last %.0f s: %s (since start: %s)", self.what,
                             now - self.summarised_at, describe(self.pending), describe(self.total))
            self.pending.clear()
        self.summarised_at = now


def describe(counts: Counter[str]) -> str:
    """'3 crc, 1 truncated', largest first."""
    return ", ".join(f"{n:,} {reason}" for reason, n in counts.most_common())
