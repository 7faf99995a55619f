"""JSON endpoints behind the dashboard; each returns what the views say, formatted, and validates its input."""

import re
from datetime import date

import psycopg
from flask import Blueprint, jsonify, request
from psycopg_pool import PoolTimeout

from stack import health
from web.db import fetch
from web.periods import window

bp = Blueprint("api", __name__)
LEVELS = ("hour", "day", "week", "month")
LABELS = {"hour": "%H:%M", "day": "%d", "week": "W%V", "month": "%b"}
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # fromisoformat alone also takes 20260101 and 2026-W01-1
FIRST, LAST = date(2000, 1, 1), date(2100, 12, 31)


class BadRequest(Exception):
    """A query parameter the API cannot use; the message says which and why."""


@bp.errorhandler(BadRequest)
def bad_request(error: BadRequest):
    """400 with the reason."""
    return jsonify(error=str(error)), 400


@bp.app_errorhandler(psycopg.OperationalError)
@bp.app_errorhandler(PoolTimeout)
def database_unavailable(_error):
    """503 while the database cannot be reached."""
    return jsonify(error="database unavailable"), 503


def one(rows: list[dict]) -> dict | None:
    """The single row of a one-row view, or None."""
    return rows[0] if rows else None


@bp.get("/api/live")
def live():
    """The current power flow and the last ten minutes of it."""
    return jsonify(now=one(fetch("live")), recent=fetch("recent"))


@bp.get("/api/today")
def today():
    """Energy so far today."""
    return jsonify(today=one(fetch("today")))


def anchor_date() -> date:
    """The date= parameter, strictly YYYY-MM-DD (default: today in the database's calendar)."""
    text = request.args.get("date")
    if text is None:
        return one(fetch("calendar"))["today"]
    malformed = BadRequest(f"date must be YYYY-MM-DD, got {text!r}")
    if not ISO_DATE.fullmatch(text):
        raise malformed
    try:
        anchor = date.fromisoformat(text)
    except ValueError:
        raise malformed from None
    if not FIRST <= anchor <= LAST:
        raise BadRequest(f"date must be between {FIRST.year} and {LAST.year}, got {text!r}")
    return anchor


def link(anchor: date) -> str | None:
    """The date= of a neighbouring chart, or None (no arrow) past the dates the API accepts."""
    return anchor.isoformat() if FIRST <= anchor <= LAST else None


@bp.get("/api/history")
def history():
    """Energy per hour of a day, day of a month, week (twelve of them) or month of a year."""
    level = request.args.get("level", "day")
    if level not in LEVELS:
        raise BadRequest(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    span = window(level, anchor_date())
    rows = fetch("history", level=level, start=span.start, end=span.end)
    for row in rows:
        row["label"] = row.pop("local_start").strftime(LABELS[level])
    return jsonify(level=level, title=span.title, previous=link(span.previous), next=link(span.next), rows=rows)


@bp.get("/api/capacity")
def capacity():
    """This month's peak quarter hour and the last twelve months."""
    months = fetch("capacity")
    return jsonify(current=months[0] if months else None, months=list(reversed(months)))


@bp.get("/api/status")
def status():
    """Freshness of each source, how far the aggregation has got, and the last run of each job."""
    return jsonify(sources=fetch("sources"), aggregation=fetch("aggregation"), jobs=fetch("job_runs"))


@bp.get("/healthz")
def healthz():
    """The installation's health for monitoring (stack/health.py); 503 while the database is unreachable."""
    body = health.report(fetch, health.spool_dir(), health.backup_dir(), health.watched_units())
    return jsonify(body), 200 if body["database"] == "ok" else 503
