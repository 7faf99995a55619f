"""The optional dashboard password (HTTP Basic, any user name) and a limit on wrong guesses per client."""

import hmac
import math
import threading
from collections import deque

from flask import Flask, Response, current_app, request

LIMIT = 10  # wrong passwords a client may send per window; then it waits (429)
WINDOW_SECONDS = 60.0
MAX_CLIENTS = 10_000  # clients remembered at once, the least recent forgotten first: memory stays bounded


class FailedAttempts:
    """Wrong passwords per client address over a sliding window, safe to share between the server's threads."""

    def __init__(self, clock, limit: int = LIMIT, window: float = WINDOW_SECONDS):
        self.clock, self.limit, self.window = clock, limit, window
        self.failures: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def wait(self, client: str) -> float:
        """Seconds until the client may try again (0: now)."""
        with self.lock:
            times = self.failures.get(client)
            if not times or len(times) < self.limit:
                return 0.0
            return max(0.0, times[0] + self.window - self.clock())

    def failed(self, client: str) -> None:
        """Count a wrong password (only the last `limit` matter: the oldest of them says when the wait ends)."""
        with self.lock:
            times = self.failures.pop(client, None) or deque(maxlen=self.limit)
            times.append(self.clock())
            self.failures[client] = times  # reinserted: the dict's order is least recent first
            if len(self.failures) > MAX_CLIENTS:
                del self.failures[next(iter(self.failures))]


def require_password():
    """Ask for the password when one is set (health checks stay open); a client that guessed wrong too often waits."""
    password = current_app.config["PASSWORD"]
    if not password or request.path == "/healthz":
        return None
    attempts: FailedAttempts = current_app.extensions["failed_attempts"]
    client = request.remote_addr or "unknown"
    wait = attempts.wait(client)
    if wait:
        return Response(f"too many wrong passwords: try again in {math.ceil(wait)} s\n", 429,
                        {"Retry-After": str(math.ceil(wait))})
    given = request.authorization.password if request.authorization else None
    if given is not None and hmac.compare_digest(given.encode(), password.encode()):
        return None
    if given is not None:
        attempts.failed(client)
    return Response("password required\n", 401, {"WWW-Authenticate": 'Basic realm="brs5-energy"'})


def init_app(app: Flask) -> None:
    """Check the password before every request."""
    app.extensions["failed_attempts"] = FailedAttempts(app.config["CLOCK"])
    app.before_request(require_password)
