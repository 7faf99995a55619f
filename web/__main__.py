"""python -m web: serve the dashboard with waitress (127.0.0.1:8080 unless WEB_HOST / WEB_PORT say otherwise).

waitress is pure Python and bounded: a fixed number of worker threads (one per pooled database connection, plus
one per live stream, whose number is capped) and a cap on open connections: an idle client costs a socket, not a
thread.
"""

import logging

import waitress

from stack import cli, settings
from web import create_app, db

# Open client connections at once (more wait in the listen backlog), well below the usual limit of 1024 files;
# poll() rather than select(), which cannot watch more than 1024; idle connections closed after a minute.
CONNECTION_LIMIT = 500
IDLE_SECONDS = 60


def streams_closed_first(hub, shutdown):
    """waitress's shutdown, which waits for its threads, after ending the live streams that hold some of them
    (they would otherwise keep them until their next heartbeat)."""
    def close_streams_and_shut_down(*args, **kwargs):
        """End the streams, then shut down as waitress does."""
        hub.close()
        return shutdown(*args, **kwargs)
    return close_streams_and_shut_down


def main() -> int:
    """Serve until stopped."""
    cli.no_arguments("python -m web", "Serve the dashboard (settings: WEB_HOST, WEB_PORT, WEB_PASSWORD; see README).")
    settings.load_dotenv()
    host = settings.setting("WEB_HOST", default="127.0.0.1")
    port = settings.setting("WEB_PORT", settings.port, 8080)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    hub = app.extensions["live"]
    try:
        server = waitress.create_server(app, host=host, port=port, threads=db.POOL_SIZE + hub.max_streams,
                                        ident="brs5-energy", connection_limit=CONNECTION_LIMIT,
                                        asyncore_use_poll=True, channel_timeout=IDLE_SECONDS)
    except ValueError as error:  # waitress: a host name that does not resolve
        raise settings.ConfigError(f"WEB_HOST {host!r}: no address to listen on ({error})") from None
    server.task_dispatcher.shutdown = streams_closed_first(hub, server.task_dispatcher.shutdown)
    print(f"dashboard: http://{host}:{port}/", flush=True)
    try:
        server.run()  # returns on Ctrl-C (and SIGTERM, which cli.run turns into Ctrl-C)
    finally:
        hub.close()
        app.extensions["pool"].close()
    return 0


if __name__ == "__main__":
    cli.run(main)
