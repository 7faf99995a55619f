"""Growing waits between reconnection attempts, reset by a success, and the reconnect loop every collector uses."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import NoReturn


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


async def reconnect_forever(session: Callable[[], Awaitable[None]], progress: Callable[[], int],
                            errors: tuple[type[Exception], ...], log: logging.Logger, peer: str,
                            backoff: Backoff | None = None,
                            sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> NoReturn:
    """Run session (connect, then read until the peer lets us down) again and again. Each of errors that ends one
    is a warning; the wait before the next doubles while sessions get nothing (progress() does not grow) and starts
    over after one that got something, so a flapping peer is retried fast and a dead one is not hammered."""
    backoff = backoff or Backoff()
    while True:
        before = progress()
        try:
            await session()
            problem = "the connection ended"
        except errors as error:
            problem = str(error) or type(error).__name__
        if progress() > before:
            backoff.reset()
        delay = backoff.next()
        log.warning("%s: %s; reconnecting in %.0f s", peer, problem, delay)
        await sleep(delay)
