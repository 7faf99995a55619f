"""Test helpers: write readings fast, and an independent Python computation of what the aggregates must be."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from psycopg import sql

BRUSSELS = ZoneInfo("Europe/Brussels")
COLUMNS = ("n", "sum", "avg", "min", "max", "first", "last", "delta")


def metric_id(conn, source: str, name: str) -> int:
    """The catalog id of a metric."""
    return conn.execute("SELECT id FROM energy.metric WHERE source = %s AND name = %s", (source, name)).fetchone()[0]


def write(conn, metric: int, readings: list[tuple[datetime, float]]) -> None:
    """Insert (ts, value) readings of one metric with COPY."""
    with conn.cursor().copy("COPY energy.raw_reading (ts, metric_id, value) FROM STDIN") as copy:
        for ts, value in readings:
            copy.write_row((ts, metric, value))


def local_period(ts: datetime, level: str, tz: ZoneInfo = BRUSSELS) -> datetime:
    """Start of the local hour, day, ISO week or month containing ts, in UTC (local keys would compare equal
    for the two 02:00 hours of an October DST day)."""
    local = ts.astimezone(tz)
    if level == "hour":
        return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if level == "week":
        day -= timedelta(days=day.weekday())
    elif level == "month":
        day = day.replace(day=1)
    return day.replace(tzinfo=tz).astimezone(UTC)


def expected(readings: list[tuple[datetime, float]], level: str, counter: bool) -> dict[datetime, dict]:
    """Per local period: n, sum, avg, min, max, first, last and (counters) the sum of non-negative increases."""
    periods: dict[datetime, list[tuple[datetime, float, float]]] = defaultdict(list)
    previous = None
    for ts, value in sorted(readings):
        step = max(value - previous, 0.0) if previous is not None else 0.0
        periods[local_period(ts, level)].append((ts, value, step))
        previous = value
    result = {}
    for start, rows in periods.items():
        values = [value for _, value, _ in rows]
        result[start] = {
            "n": len(values), "sum": sum(values), "avg": sum(values) / len(values), "min": min(values),
            "max": max(values), "first": values[0], "last": values[-1],
            "delta": sum(step for _, _, step in rows) if counter else None,
        }
    return result


def stored(conn, level: str, metric: int) -> dict[datetime, dict]:
    """The stored aggregates of one metric at one level, keyed by period start."""
    query = sql.SQL("SELECT period_start, {} FROM {} WHERE metric_id = %s ORDER BY period_start").format(
        sql.SQL(", ").join(map(sql.Identifier, COLUMNS)), sql.Identifier("energy", f"agg_{level}"))
    rows = conn.execute(query, (metric,)).fetchall()
    return {row[0]: dict(zip(COLUMNS, row[1:], strict=True)) for row in rows}
