"""The dashboard: a Flask application that reads the energy views through the read-only role."""

import time
from datetime import date, datetime
from decimal import Decimal

from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider

from stack import settings

DEFAULTS = {"DATABASE_URL": None, "PASSWORD": None, "CLOCK": time.monotonic, "DEBUG": False, "REFRESH_SECONDS": 1,
            "LIVE_STREAMS": 8}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


class JSONProvider(DefaultJSONProvider):
    """ISO 8601 times and plain numbers in JSON."""

    @staticmethod
    def default(o):
        """Serialise what the views return."""
        if isinstance(o, datetime | date):
            return o.isoformat()
        if isinstance(o, Decimal):
            return float(o)
        return DefaultJSONProvider.default(o)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application from the settings, or from test_config alone: then nothing else is read."""
    app = Flask(__name__)
    app.json = JSONProvider(app)
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        settings.load_dotenv()
        app.config.update(DATABASE_URL=settings.database_url("energy_web"), PASSWORD=settings.text("WEB_PASSWORD"))
    else:
        app.config.update(test_config)

    from web import api, auth, costs, db, history, live, pages

    db.init_app(app)
    auth.init_app(app)
    live.init_app(app)
    for module in (pages, api, history, live, costs):
        app.register_blueprint(module.bp)

    @app.after_request
    def security_headers(response: Response) -> Response:
        """No inline script, no framing, no sniffing."""
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return app
