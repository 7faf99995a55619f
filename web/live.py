"""Live updates as Server-Sent Events: one LISTEN connection per server hears the database say that readings
arrived (trigger raw_reading_notify), reads the live views once, and hands the result to every open page.

An open stream holds one of the server's threads, so their number is capped (LIVE_STREAMS); a page refused a
stream polls /api/live instead. Streams need no pooled connection: only the hub's own connection reads."""

import logging
import threading

import psycopg
from flask import Blueprint, Flask, Response, current_app
from psycopg import sql
from psycopg.rows import dict_row

from web.db import QUERIES

log = logging.getLogger(__name__)
bp = Blueprint("live", __name__)
CHANNEL = "energy_live"
HEARTBEAT_SECONDS = 15.0  # a comment line this often keeps proxies and the idle-connection timeout away
RETRY_MS = 2000  # how soon a browser reconnects a stream that ended
RECONNECT_SECONDS = (1, 2, 5, 10)  # waits before trying the database again, the last one repeated


def live_payload(conn: psycopg.Connection) -> dict:
    """What /api/live returns: the power flow now, the last ten minutes, the running quarter hour."""
    rows = {name: conn.execute(QUERIES[name]).fetchall() for name in ("live", "recent", "quarter")}
    return {"now": rows["live"][0] if rows["live"] else None, "recent": rows["recent"],
            "quarter": rows["quarter"][0] if rows["quarter"] else None}


class Hub:
    """The latest event (live data, or the database being unavailable) and the streams waiting for the next one."""

    def __init__(self, url: str, dumps, max_streams: int):
        self.url, self.dumps, self.max_streams = url, dumps, max_streams
        self.changed = threading.Condition()
        self.sequence, self.event, self.streams = 0, None, 0
        self.closed = threading.Event()
        self.thread: threading.Thread | None = None

    def enter(self) -> bool:
        """Take a stream slot (starting the listener on first use); False when every slot is taken."""
        with self.changed:
            if self.streams >= self.max_streams or self.closed.is_set():
                return False
            self.streams += 1
            if self.thread is None:
                self.thread = threading.Thread(target=self.listen, name="live-listener", daemon=True)
                self.thread.start()
            return True

    def leave(self) -> None:
        """Give a stream slot back."""
        with self.changed:
            self.streams -= 1

    def wait(self, seen: int, timeout: float) -> tuple[int, str, str] | None:
        """The event after number seen, or None after timeout (or once the hub is closed)."""
        with self.changed:
            self.changed.wait_for(lambda: self.sequence > seen or self.closed.is_set(), timeout)
            if self.sequence <= seen or self.closed.is_set():
                return None
            return (self.sequence, *self.event)

    def publish(self, kind: str, data) -> None:
        """Hand a new event to every stream."""
        with self.changed:
            self.sequence += 1
            self.event = (kind, self.dumps(data))
            self.changed.notify_all()

    def listen(self) -> None:
        """Publish the live views at every notification while pages follow (at every heartbeat while none does);
        while the database cannot be reached, say so and try again."""
        failures = 0
        while not self.closed.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, row_factory=dict_row, connect_timeout=5) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    failures = 0
                    self.publish("live", live_payload(conn))
                    while not self.closed.is_set():
                        notified = any(True for _ in conn.notifies(timeout=HEARTBEAT_SECONDS, stop_after=1))
                        if self.streams or not notified:
                            self.publish("live", live_payload(conn))
            except psycopg.Error as error:
                if failures == 0:
                    log.warning("live updates: database unavailable (%s)", str(error).strip().splitlines()[0])
                self.publish("unavailable", {"error": "database unavailable"})
            except Exception:  # a bug must not end live updates for good: log it, start over
                log.exception("live updates: unexpected error")
                self.publish("unavailable", {"error": "live updates failed"})
            self.closed.wait(RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)])
            failures += 1

    def close(self) -> None:
        """End every stream and the listener."""
        self.closed.set()
        with self.changed:
            self.changed.notify_all()


class Stream:
    """The events one page receives: a retry hint, then each event as it comes, a comment line while nothing
    does. The server closes it when the page goes away, even before it started: that gives its slot back."""

    def __init__(self, hub: Hub):
        self.hub, self.open = hub, True

    def __iter__(self):
        """The event stream, until the hub closes."""
        seen = 0
        yield f"retry: {RETRY_MS}\n\n"
        while not self.hub.closed.is_set():
            event = self.hub.wait(seen, HEARTBEAT_SECONDS)
            if event is None:
                yield ": nothing new\n\n"
                continue
            seen, kind, data = event
            yield f"event: {kind}\ndata: {data}\n\n"

    def close(self) -> None:
        """Give the slot back, once."""
        if self.open:
            self.open = False
            self.hub.leave()


@bp.get("/api/live/stream")
def stream():
    """The live data as Server-Sent Events, or 503 when the server follows as many pages as it can."""
    hub: Hub = current_app.extensions["live"]
    if not hub.enter():
        return Response("every live stream is taken: poll /api/live\n", 503, {"Retry-After": "60"},
                        mimetype="text/plain")
    return Response(Stream(hub), mimetype="text/event-stream", headers={"Cache-Control": "no-store"})


def init_app(app: Flask) -> None:
    """Create the hub; the listener starts with the first stream."""
    app.extensions["live"] = Hub(app.config["DATABASE_URL"], app.json.dumps, app.config["LIVE_STREAMS"])
