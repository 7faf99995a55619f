"""The dashboard: a Flask application that reads the energy views through the read-only role."""

import hmac
from datetime import date, datetime
from decimal import Decimal

from flask import Flask, Response, request
from flask.json.provider import DefaultJSONProvider

from stack import settings


def web_database_url() -> str:
    """WEB_DATABASE_URL, or DATABASE_URL (or the local cluster) as the energy_web role."""
    if url := settings.text("WEB_DATABASE_URL"):
        return url
    if owner := settings.text("DATABASE_URL"):
        return settings.with_user(owner, "energy_web")
    from db.cluster import local_cluster

    return local_cluster().url(user="energy_web")


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


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application; test_config overrides settings from the environment."""
    settings.load_dotenv()
    app = Flask(__name__)
    app.json = JSONProvider(app)
    app.config.from_mapping(DATABASE_URL=None, PASSWORD=settings.text("WEB_PASSWORD"), REFRESH_SECONDS=2)
    if test_config:
        app.config.update(test_config)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = web_database_url()

    from web import api, db, pages

    db.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)

    @app.before_request
    def require_password():
        """Ask for the password when WEB_PASSWORD is set (health checks stay open)."""
        password = app.config["PASSWORD"]
        if not password or request.path == "/healthz":
            return None
        given = request.authorization.password if request.authorization else ""
        if given and hmac.compare_digest(given.encode(), password.encode()):
            return None
        return Response("password required\n", 401, {"WWW-Authenticate": 'Basic realm="brs5-energy"'})

    @app.after_request
    def security_headers(response: Response) -> Response:
        """No inline script, no framing, no sniffing."""
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return app
