"""Where imported portal history goes: the fluvius metrics of the catalog, and one transaction for all readings."""

import math
from datetime import timedelta

import psycopg

from ingest.portal import REGISTERS
from ingest.portal_csv import Metric, Reading

CATALOG = """
SELECT name, id, interval_seconds, min_value, max_value FROM energy.metric WHERE source = 'fluvius' AND kind = 'amount'
"""
# The readings go to a temporary table first (COPY is the fastest way in), then into raw_reading in one statement.
# The ingest role may only insert: a reading already stored (a re-import, overlapping files) is kept as it is.
# In key order, so that two imports of overlapping files at once wait for each other instead of deadlocking.
STAGE = "CREATE TEMPORARY TABLE fluvius_import (ts timestamptz, metric_id integer, value float8) ON COMMIT DROP"
COPY = "COPY fluvius_import FROM STDIN (FORMAT BINARY)"
INSERT = """
INSERT INTO energy.raw_reading (ts, metric_id, value)
SELECT ts, metric_id, value FROM fluvius_import ORDER BY metric_id, ts
ON CONFLICT DO NOTHING
"""


class CatalogError(Exception):
    """The database does not know the metrics of the portal's registers."""


def catalog(conn: psycopg.Connection) -> dict[str, Metric]:
    """The fluvius metrics by name."""
    found = {name: Metric(name, id_, timedelta(seconds=seconds), -math.inf if low is None else low,
                          math.inf if high is None else high)
             for name, id_, seconds, low, high in conn.execute(CATALOG)}
    if missing := set(REGISTERS.values()) - found.keys():
        raise CatalogError(f"energy.metric has no fluvius {', '.join(sorted(missing))}: run make migrate")
    return found


def write(conn: psycopg.Connection, readings: list[Reading]) -> int:
    """Store every reading in one transaction; returns how many were new."""
    with conn.transaction():
        conn.execute(STAGE)
        with conn.cursor().copy(COPY) as copy:
            copy.set_types(["timestamptz", "int4", "float8"])
            for reading in readings:
                copy.write_row(reading)
        return conn.execute(INSERT).rowcount
