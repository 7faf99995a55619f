"""JSON endpoints of the money figures (energy.costs): today so far, this month's capacity cost, history in EUR."""

from flask import Blueprint, jsonify

from web.db import fetch, one
from web.history import chart, download

bp = Blueprint("costs", __name__)
LEVELS = ("hour", "day", "week", "month")  # the levels energy.costs has: no years


@bp.get("/api/costs")
def costs():
    """Whether a contract covers today, what today cost so far, and this month's projected capacity cost."""
    if not one(fetch("tariff_today"))["covered"]:
        return jsonify(tariff=False, today=None, capacity=None)
    return jsonify(tariff=True, today=one(fetch("costs_today")), capacity=one(fetch("capacity_cost")))


@bp.get("/api/costs/history")
def history():
    """The money of every period of the chart /api/history shows for the same level= and date=: the same window,
    the same periods."""
    return jsonify(chart("costs_history", LEVELS))


@bp.get("/api/costs/history.csv")
def history_csv():
    """The same as /api/costs/history, one row per period, as a CSV download."""
    return download(chart("costs_history", LEVELS), "costs")
