"""The pg_cron jobs, as data. Schedules are in UTC (pg_cron 1.4) and missed runs are never replayed, so every
job runs hourly and the procedures catch up on whatever is due: a local midnight is handled at the next run."""

from typing import NamedTuple


class Job(NamedTuple):
    """One pg_cron job; in_cron_database runs it in pg_cron's own database instead of the energy one."""

    name: str
    schedule: str
    command: str
    in_cron_database: bool = False


JOBS = (
    Job("energy-hourly", "2 * * * *", "CALL energy.aggregate_hours()"),
    Job("energy-daily", "7 * * * *", "CALL energy.aggregate_days()"),
    Job("energy-weekly", "12 * * * *", "CALL energy.aggregate_weeks()"),
    Job("energy-monthly", "17 * * * *", "CALL energy.aggregate_months()"),
    Job("energy-cleanup", "22 * * * *", "CALL energy.cleanup_raw()"),
    Job("energy-partitions", "30 * * * *", "CALL energy.create_raw_partitions()"),
    Job("energy-cron-history", "40 3 * * *",
        "DELETE FROM cron.job_run_details WHERE end_time < now() - interval '14 days'", in_cron_database=True),
)
