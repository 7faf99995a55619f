"""JSON endpoints behind the dashboard; each returns what the views say and validates its input."""

import psycopg
from flask import Blueprint, jsonify
from psycopg_pool import PoolTimeout

from stack import health
from web.db import connection, fetch, one
from web.live import live_payload

bp = Blueprint("api", __name__)


class BadRequest(Exception):
    """A query parameter the API cannot use; the message says which and why."""


@bp.app_errorhandler(BadRequest)
def bad_request(error: BadRequest):
    """400 with the reason."""
    return jsonify(error=str(error)), 400


@bp.app_errorhandler(psycopg.OperationalError)
@bp.app_errorhandler(PoolTimeout)
def database_unavailable(_error):
    """503 while the database cannot be reached."""
    return jsonify(error="database unavailable"), 503


@bp.get("/api/live")
def live():
    """The current power flow, the last ten minutes of it and the running quarter hour (what the live stream
    sends, for pages that poll)."""
    with connection() as conn:
        return jsonify(live_payload(conn))


@bp.get("/api/today")
def today():
    """Energy so far today: the running day of the history, so that it equals the day's bar."""
    calendar = one(fetch("calendar"))
    return jsonify(today=one(fetch("today", today=calendar["today"])), calendar=calendar)


@bp.get("/api/capacity")
def capacity():
    """The capacity tariff: the running quarter hour against this month's peak, today's quarter hours, and the
    twelve months whose peaks are averaged."""
    return jsonify(quarter=one(fetch("quarter")), today=fetch("demand_today"), months=fetch("capacity_months"))


@bp.get("/api/status")
def status():
    """What is wrong (stale collectors, late aggregation, failed jobs), the freshness of each source, and how
    far the aggregation has got."""
    return jsonify(alerts=fetch("alerts"), sources=fetch("sources"), aggregation=fetch("aggregation"))


@bp.get("/healthz")
def healthz():
    """The installation's health for monitoring (stack/health.py); 503 while the database is unreachable."""
    body = health.report(fetch, health.spool_dir(), health.backup_dir(), health.watched_units())
    return jsonify(body), 200 if body["database"] == "ok" else 503
