"""python -m web: serve the dashboard (127.0.0.1:8080 unless WEB_HOST / WEB_PORT say otherwise)."""

import logging
import sys

from stack import settings
from web import create_app


def main() -> int:
    """Serve until interrupted, with a threaded server good enough for a household."""
    try:
        settings.load_dotenv()
        host = settings.text("WEB_HOST", "127.0.0.1")
        port = settings.port("WEB_PORT", 8080)
    except settings.ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request is too much for a Pi
    print(f"dashboard: http://{host}:{port}/", flush=True)
    create_app().run(host=host, port=port, threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
