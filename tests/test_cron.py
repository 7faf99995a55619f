"""pg_cron really runs the aggregation inside the test cluster (waits for the next minute: up to ~70 s)."""

import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from db import migrate
from tests.database import metric_id, write
from tests.pg import CRON_DATABASE, url_of


@pytest.mark.slow
def test_a_scheduled_job_runs_and_its_success_is_recorded(pg_server):
    url = url_of(pg_server, CRON_DATABASE)  # pg_cron's own database, so energy.job_runs can see the runs
    migrate.migrate(url)
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            power = metric_id(conn, "dsmr", "power_import")
            start = datetime.now(UTC) - timedelta(hours=3)
            write(conn, power, [(start + timedelta(minutes=m), 1000.0 + m) for m in range(0, 120, 5)])
            conn.execute("SELECT cron.schedule('energy-test-tick', '* * * * *', 'CALL energy.run_aggregations()')")
            deadline, runs = time.monotonic() + 90, {}
            while time.monotonic() < deadline and runs.get("energy-test-tick", (None,))[0] != "succeeded":
                time.sleep(2)
                runs = {job: (status, message) for job, status, message in
                        conn.execute("SELECT job, status, message FROM energy.job_runs")}
                assert runs.get("energy-test-tick", ("",))[0] != "failed", runs
            assert runs["energy-test-tick"][0] == "succeeded"
            assert conn.execute("SELECT count(*), sum(n) FROM energy.agg_hour").fetchone() in [(2, 24), (3, 24)]
        finally:
            conn.execute("SELECT cron.unschedule(jobid) FROM cron.job WHERE database = %s", (CRON_DATABASE,))
