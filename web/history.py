"""The history charts' data: energy per period of a window (energy.history_compared), as JSON or as CSV."""

import csv
import io
import re
from datetime import date, datetime

from flask import Blueprint, Response, jsonify, request

from web.api import BadRequest
from web.db import fetch, one
from web.periods import window

bp = Blueprint("history", __name__)
LEVELS = ("hour", "day", "week", "month", "year")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # fromisoformat alone also takes 20260101 and 2026-W01-1
FIRST, LAST = date(2000, 1, 1), date(2100, 12, 31)


def anchor_date(calendar: dict) -> date:
    """The date= parameter, strictly YYYY-MM-DD (default: today in the database's calendar)."""
    text = request.args.get("date")
    if text is None:
        return calendar["today"]
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


def chart(query: str = "history", levels: tuple[str, ...] = LEVELS) -> dict:
    """The chart that level= and date= ask for: its window, the calendar, and a row per period from the named
    query (energy by default; money has fewer levels)."""
    level = request.args.get("level", "hour")
    if level not in levels:
        raise BadRequest(f"level must be one of {', '.join(levels)}, got {level!r}")
    calendar = one(fetch("calendar"))
    span = window(level, anchor_date(calendar))
    rows = fetch(query, level=level, start=span.start, end=span.end)
    return {"level": level, "start": span.start.isoformat(), "end": span.end.isoformat(),
            "previous": link(span.previous), "next": link(span.next), "time_zone": calendar["time_zone"],
            "today": calendar["today"].isoformat(), "rows": rows}


@bp.get("/api/history")
def history():
    """Energy per hour of a day, day of a month, week (twelve of them), month of a year or year (five of them),
    each with the period it is compared with."""
    return jsonify(chart())


def cell(value) -> str:
    """A value as the JSON gives it, in CSV: ISO 8601 times, plain numbers, true/false, empty for none."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def download(data: dict, what: str) -> Response:
    """A chart's rows as a CSV file named after what it shows and its window."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    rows = data["rows"]
    if rows:
        writer.writerow(rows[0].keys())
        writer.writerows([cell(value) for value in row.values()] for row in rows)
    name = f"{what}-{data['level']}-{data['start']}-to-{data['end']}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/api/history.csv")
def history_csv():
    """The same chart as /api/history, one row per period, as a CSV download."""
    return download(chart(), "energy")
