"""Growing waits between reconnection attempts, reset by a success."""


class Backoff:
    """1, 2, 4, ... seconds up to a ceiling."""

    def __init__(self, first: float = 1.0, ceiling: float = 30.0):
        self.first, self.ceiling, self.delay = first, ceiling, first

    def next(self) -> float:
        """The wait before the next attempt."""
        delay, self.delay = self.delay, min(self.delay * 2, self.ceiling)
        return delay

    def reset(self) -> None:
        """Start from the shortest wait again."""
        self.delay = self.first
