"""The dashboard page."""

from flask import Blueprint, current_app, render_template

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    """The one page; everything on it is filled in by static/app.js from the API."""
    return render_template("index.html", refresh_seconds=current_app.config["REFRESH_SECONDS"])
