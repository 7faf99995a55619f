"""pg_cron really runs the aggregation inside the test cluster (waits for the next minute: up to ~70 s)."""

import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.conftest import admin
from tests.readings import metric_id, write


@pytest.mark.slow
def test_a_scheduled_job_runs_and_its_success_is_recorded(pg_server, db_url, db):
    power = metric_id(db, "dsmr", "power_import")
    start = datetime.now(UTC) - timedelta(hours=3)
    write(db, power, [(start + timedelta(minutes=m), 1000.0 + m) for m in range(0, 120, 5)])
    database = psycopg.conninfo.conninfo_to_dict(db_url)["dbname"]
    with admin(pg_server) as conn:
        job = conn.execute("SELECT cron.schedule_in_database('energy-test-tick', '* * * * *', "
                           "'CALL energy.run_aggregations()', %s)", (database,)).fetchone()[0]
        try:
            deadline = time.monotonic() + 90
            status = None
            while time.monotonic() < deadline and status != "succeeded":
                time.sleep(2)
                row = conn.execute("SELECT status, return_message FROM cron.job_run_details WHERE jobid = %s "
                                   "ORDER BY start_time DESC LIMIT 1", (job,)).fetchone()
                status = row[0] if row else None
                assert status != "failed", row
        finally:
            conn.execute("SELECT cron.unschedule(%s)", (job,))
    assert status == "succeeded"
    assert db.execute("SELECT count(*), sum(n) FROM energy.agg_hour").fetchone() in [(2, 24), (3, 24)]
