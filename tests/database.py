"""What the tests put into the database and read back from it, in one shape for every source: readings written fast,
the jobs run at a chosen time, and the stored readings, newest values, aggregates and tables.

The readers take a URL (a connection is opened for the call, as a test that polls a collector needs) or an open
connection."""

from datetime import datetime, timedelta

import psycopg
from psycopg import sql

AGGREGATE_COLUMNS = ("n", "sum", "avg", "min", "max", "first", "last", "delta", "estimated")
AGGREGATE_TABLES = ("agg_hour", "agg_day", "agg_week", "agg_month", "counter_hour")
PROGRESS_TABLES = ("agg_progress", "stale_period")  # what the jobs have done and what they must redo
# Counters growing at constant rates (units per hour): every flow of the dashboard has something to show.
COUNTER_RATES = {("dsmr", "energy_import_t1"): 0.5, ("dsmr", "energy_import_t2"): 0.25,
                 ("dsmr", "energy_export_t1"): 0.75, ("sun2000", "energy_yield_total"): 2.0,
                 ("dsmr", "gas_volume"): 0.125}


def fetch(db: str | psycopg.Connection, query, params=()) -> list[tuple]:
    """The rows of a query, on a connection of its own when db is a URL."""
    if isinstance(db, str):
        with psycopg.connect(db) as conn:
            return conn.execute(query, params).fetchall()
    return db.execute(query, params).fetchall()


def metric_id(conn: psycopg.Connection, source: str, name: str) -> int:
    """The catalog id of a metric."""
    return conn.execute("SELECT id FROM energy.metric WHERE source = %s AND name = %s", (source, name)).fetchone()[0]


def write(conn: psycopg.Connection, metric: int, readings: list[tuple[datetime, float]]) -> None:
    """Insert (ts, value) readings of one metric with COPY."""
    with conn.cursor().copy("COPY energy.raw_reading (ts, metric_id, value) FROM STDIN") as copy:
        for ts, value in readings:
            copy.write_row((ts, metric, value))


def seed_counters(conn: psycopg.Connection, start: datetime, end: datetime, scale: float = 1.0,
                  step_minutes: int = 10, base: float = 1000.0) -> None:
    """Every flow's meter read every step from start to end (included), from base, rising at COUNTER_RATES times
    scale."""
    minutes = int((end - start).total_seconds() // 60)
    for (source, name), rate in COUNTER_RATES.items():
        write(conn, metric_id(conn, source, name), [(start + timedelta(minutes=m), base + scale * rate * m / 60)
                                                     for m in range(0, minutes + 1, step_minutes)])


def run_jobs(conn: psycopg.Connection, now: datetime, procedure: str = "run_aggregations") -> None:
    """Call an aggregation procedure (by default every job) as if the clock said now."""
    conn.execute(sql.SQL("CALL {}(%s)").format(sql.Identifier("energy", procedure)), (now,))


def stored(db, source: str, metric: str | None = None) -> list[tuple[datetime, str, float]]:
    """(ts, metric, value) of a source's raw readings, of one metric when named, in time and name order."""
    return fetch(db, "SELECT ts, metric, value FROM energy.readings WHERE source = %s "
                     "AND (%s::text IS NULL OR metric = %s) ORDER BY ts, metric", (source, metric, metric))


def values(db, source: str, metric: str) -> list[tuple[datetime, float]]:
    """(ts, value) of one metric's raw readings, in time order."""
    return [(ts, value) for ts, _, value in stored(db, source, metric)]


def count(db, source: str, metric: str) -> int:
    """How many raw readings one metric has."""
    return fetch(db, "SELECT count(*) FROM energy.readings WHERE source = %s AND metric = %s", (source, metric))[0][0]


def newest(db, source: str) -> dict[str, float]:
    """The newest value of every metric of a source."""
    return dict(fetch(db, "SELECT DISTINCT ON (metric) metric, value FROM energy.readings WHERE source = %s "
                          "ORDER BY metric, ts DESC", (source,)))


def aggregates(db, level: str, metric: int) -> dict[datetime, dict]:
    """The stored aggregates of one metric at one level, keyed by period start."""
    query = sql.SQL("SELECT period_start, {} FROM {} WHERE metric_id = %s ORDER BY period_start").format(
        sql.SQL(", ").join(map(sql.Identifier, AGGREGATE_COLUMNS)), sql.Identifier("energy", f"agg_{level}"))
    return {row[0]: dict(zip(AGGREGATE_COLUMNS, row[1:], strict=True)) for row in fetch(db, query, (metric,))}


def contents(db, tables: tuple[str, ...] = AGGREGATE_TABLES) -> dict[str, list[tuple]]:
    """Every row of some energy tables (by default those holding aggregates), in key order."""
    return {table: fetch(db, sql.SQL("SELECT * FROM {} ORDER BY 1, 2").format(sql.Identifier("energy", table)))
            for table in tables}
