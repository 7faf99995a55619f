"""Readings as a person reckons them, independently of the database: Belgian local time from zoneinfo, and what the
aggregates of a series must be by the rules as they are stated."""

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")


def local(*args: int) -> datetime:
    """A Brussels wall-clock time, in UTC so that adding hours adds real hours."""
    return datetime(*args, tzinfo=BRUSSELS).astimezone(UTC)


def local_midnight(day: date) -> datetime:
    """The UTC moment a day begins in Brussels."""
    return datetime.combine(day, time(), BRUSSELS).astimezone(UTC)


def local_period(ts: datetime, level: str, tz: ZoneInfo = BRUSSELS) -> datetime:
    """Start of the local hour, day, ISO week or month containing ts, in UTC (local keys would compare equal
    for the two 02:00 hours of an October DST day)."""
    wall = ts.astimezone(tz)
    if level == "hour":
        return wall.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    day = wall.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if level == "week":
        day -= timedelta(days=day.weekday())
    elif level == "month":
        day = day.replace(day=1)
    return day.replace(tzinfo=tz).astimezone(UTC)


def period_end(start: datetime, level: str, tz: ZoneInfo = BRUSSELS) -> datetime:
    """End of the local period that starts at start (UTC)."""
    if level == "hour":
        return start + timedelta(hours=1)
    wall = start.astimezone(tz).replace(tzinfo=None)
    if level == "month":
        wall = (wall.replace(day=28) + timedelta(days=4)).replace(day=1)
    else:
        wall += timedelta(days=1 if level == "day" else 7)
    return wall.replace(tzinfo=tz).astimezone(UTC)


def expected(readings: list[tuple[datetime, float]], level: str, counter: bool) -> dict[datetime, dict]:
    """Per local period, from the rules as a person states them: n, sum, min, max, first, last of the period's own
    readings; avg weighted by how long each reading holds (until the next reading or the period's end, from the
    period's first reading); for a rising counter, delta = every step between consecutive readings split over the
    periods it spans in proportion to time, and estimated where an hour holds part of a step over five minutes
    long that crosses its boundary (periods with only such shares have n = 0)."""
    readings = sorted(readings)
    result: dict[datetime, dict] = {}
    for i, (ts, value) in enumerate(readings):
        start = local_period(ts, level)
        end = period_end(start, level)
        following = readings[i + 1][0] if i + 1 < len(readings) else end
        row = result.setdefault(start, {"n": 0, "sum": 0.0, "integral": 0.0, "min": value, "max": value,
                                        "first": value, "first_ts": ts, "last": value, "end": end})
        row["n"] += 1
        row["sum"] += value
        row["integral"] += value * (min(following, end) - ts).total_seconds()
        row["min"], row["max"], row["last"] = min(row["min"], value), max(row["max"], value), value
    for row in result.values():
        row["avg"] = row.pop("integral") / (row.pop("end") - row.pop("first_ts")).total_seconds()
        row["delta"], row["estimated"] = (0.0 if counter else None), False
    if not counter:
        return result
    estimated_hours = set()
    for (t0, v0), (t1, v1) in pairwise(readings):
        seconds = (t1 - t0).total_seconds()
        if local_period(t0, "hour") != local_period(t1, "hour") and seconds > 300:
            hour = local_period(t0, "hour")
            while hour < t1:
                estimated_hours.add(hour)
                hour += timedelta(hours=1)
        start = local_period(t0, level)
        while start < t1:
            end = period_end(start, level)
            overlap = (min(end, t1) - max(start, t0)).total_seconds()
            if overlap > 0:
                row = result.setdefault(start, {"n": 0, "sum": None, "avg": None, "min": None, "max": None,
                                                "first": None, "last": None, "delta": 0.0, "estimated": False})
                row["delta"] += (v1 - v0) * overlap / seconds
            start = end
    for start, row in result.items():
        end = period_end(start, level)
        row["estimated"] = any(start <= hour < end for hour in estimated_hours)
    return result


def after(readings: list[tuple[datetime, float]], since: datetime) -> float:
    """What a counter rose after since: every step between readings, the part of it after since."""
    total = 0.0
    for (t0, v0), (t1, v1) in pairwise(sorted(readings)):
        if t1 > since:
            total += (v1 - v0) * (t1 - max(t0, since)).total_seconds() / (t1 - t0).total_seconds()
    return total
