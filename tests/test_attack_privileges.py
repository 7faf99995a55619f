"""A hostile review of what the application roles can do to the engine with the rights they have: a collector (or
whoever holds its password) may only insert raw readings, and that must not stop or falsify the aggregation."""

import contextlib
from datetime import timedelta

import psycopg
import pytest

from stack.settings import with_user
from tests.database import aggregates, metric_id, write
from tests.readings import local


@pytest.mark.parametrize("when", ["infinity", "-infinity"])
def test_a_reading_at_an_endless_time_cannot_stop_the_aggregation(db_url, db, when):
    # timestamptz takes 'infinity': one such counter reading from the ingest role, refused or stored, must leave
    # the hourly job able to finish (pg_cron would otherwise start a new, waiting job every hour, forever).
    meter = metric_id(db, "dsmr", "energy_import_t1")
    write(db, meter, [(local(2026, 5, 1) + timedelta(minutes=10 * i), round(100 + 0.1 * i, 3)) for i in range(288)])
    db.execute("CALL energy.run_aggregations(%s)", (local(2026, 5, 2, 1),))
    with (psycopg.connect(with_user(db_url, "energy_ingest"), autocommit=True) as ingest,
          contextlib.suppress(psycopg.Error)):  # refused is as good
        ingest.execute("INSERT INTO energy.raw_reading VALUES (%s::timestamptz, %s, 105.0)", (when, meter))
    db.execute("SET statement_timeout = '30s'")
    db.execute("CALL energy.run_aggregations(%s)", (local(2026, 5, 3, 1),))
    day = aggregates(db, "day", meter)[local(2026, 5, 2)]
    assert day["delta"] == pytest.approx(14.3)  # 00:00 to 23:50: 143 steps of 0.1 kWh


def test_the_ingest_role_cannot_write_the_derived_flows(db_url, db):
    # Source 'flow' is the engine's own output (one figure per flow); a reading of it from the ingest role must
    # be refused or ignored, not shown as 9,999 kWh produced today.
    produced = metric_id(db, "flow", "produced")
    with (psycopg.connect(with_user(db_url, "energy_ingest"), autocommit=True) as ingest,
          contextlib.suppress(psycopg.Error)):  # refused is as good
        ingest.execute("INSERT INTO energy.raw_reading VALUES (now() - interval '1 minute', %s, 9999)", (produced,))
    today = db.execute("SELECT coalesce(max(produced_kwh), 0) FROM energy.flows WHERE level = 'today'").fetchone()[0]
    assert today == 0
