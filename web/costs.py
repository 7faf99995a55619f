"""JSON endpoints of the money figures (energy.costs): today so far, this month's capacity cost, history in EUR."""

from flask import Blueprint, jsonify, request

from web.api import BadRequest
from web.db import fetch, one
from web.history import anchor_date
from web.periods import window

bp = Blueprint("costs", __name__)
LEVELS = ("hour", "day", "week", "month")  # the levels energy.costs has


@bp.get("/api/costs")
def costs():
    """Whether a contract covers today, what today cost so far, and this month's projected capacity cost."""
    if not one(fetch("tariff_today"))["covered"]:
        return jsonify(tariff=False, today=None, capacity=None)
    return jsonify(tariff=True, today=one(fetch("costs_today")), capacity=one(fetch("capacity_cost")))


@bp.get("/api/costs/history")
def history():
    """The cost of every period of the chart /api/history shows for the same level and date."""
    level = request.args.get("level", "day")
    if level not in LEVELS:
        raise BadRequest(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    span = window(level, anchor_date(one(fetch("calendar"))))
    rows = fetch("costs_history", level=level, start=span.start, end=span.end)
    return jsonify(level=level, start=span.start.isoformat(), end=span.end.isoformat(), rows=rows)
