"""The aggregation procedures, driven through SQL with chosen p_now values and compared with Python."""

import math
import random
import threading
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from psycopg import sql

from tests.database import (
    AGGREGATE_COLUMNS,
    AGGREGATE_TABLES,
    PROGRESS_TABLES,
    aggregates,
    contents,
    metric_id,
    run_jobs,
    write,
)
from tests.readings import expected, local, local_period, period_end

LEVELS = ("hour", "day", "week", "month")


def series(start: datetime, end: datetime, step: timedelta, value, seed: int = 1) -> list[tuple[datetime, float]]:
    """Readings every step (with jitter of a few seconds) from start to end, value(i, rng) giving each value."""
    rng = random.Random(seed)
    readings, ts, i = [], start, 0
    while ts < end:
        readings.append((ts + timedelta(seconds=rng.randint(0, 5)), value(i, rng)))
        ts += step
        i += 1
    return readings


def counter_values(start: float = 1000.0):
    """A meter register that grows by a random amount per reading."""
    total = [start]

    def next_value(_i, rng):
        total[0] = round(total[0] + rng.uniform(0, 0.05), 3)
        return total[0]
    return next_value


def gauge_values(_i, rng) -> float:
    """A power that wanders between 0 and 5 kW."""
    return round(rng.uniform(0, 5000), 1)


def assert_equal(actual: dict, wanted: dict, periods=None) -> None:
    """Every column of every period matches (floats to 1e-9 relative)."""
    keys = periods if periods is not None else wanted.keys()
    for start in keys:
        assert start in actual, f"missing period {start}"
        for column in AGGREGATE_COLUMNS:
            a, w = actual[start][column], wanted[start][column]
            if w is None:
                assert a is None, (start, column)
            else:
                assert math.isclose(a, w, rel_tol=1e-9, abs_tol=1e-9), (start, column, a, w)


@pytest.fixture
def power(db):
    return metric_id(db, "dsmr", "power_import")


def complete(wanted: dict, level: str, now: datetime) -> dict:
    """The periods of the expectation that have ended before now."""
    return {start: row for start, row in wanted.items() if period_end(start, level) <= now}


def test_every_level_equals_an_independent_computation(db, power, meter):
    # Ten days across the October DST change and a month boundary, with a missing hour and a missing day.
    start, end, now = local(2025, 10, 22, 0, 3), local(2025, 11, 3, 23), local(2025, 11, 4, 10, 30)
    gaps = [(local(2025, 10, 25, 14), local(2025, 10, 25, 15)), (local(2025, 10, 29), local(2025, 10, 30))]

    def keep(readings):
        return [(ts, v) for ts, v in readings if not any(a <= ts < b for a, b in gaps)]
    gauge = keep(series(start, end, timedelta(minutes=7), gauge_values, seed=1))
    counter = keep(series(start, end, timedelta(minutes=11), counter_values(), seed=2))
    write(db, power, gauge)
    write(db, meter, counter)

    run_jobs(db, now)

    for level in LEVELS:
        for metric, readings, is_counter in ((power, gauge, False), (meter, counter, True)):
            wanted = complete(expected(readings, level, is_counter), level, now)
            actual = aggregates(db, level, metric)
            assert sorted(actual) == sorted(wanted), level
            assert_equal(actual, wanted)


def test_counter_deltas_add_up_to_the_meter_difference_across_gaps(db, meter):
    readings = series(local(2026, 1, 5), local(2026, 1, 12), timedelta(minutes=13), counter_values(), seed=3)
    readings = [(ts, v) for ts, v in readings if not local(2026, 1, 7, 9) <= ts < local(2026, 1, 8, 17)]
    write(db, meter, readings)
    run_jobs(db, local(2026, 1, 13, 1))
    first_day_start = local(2026, 1, 5)
    for level in ("hour", "day", "week"):
        table = sql.Identifier("energy", f"agg_{level}")
        query = sql.SQL("SELECT sum(delta) FROM {} WHERE metric_id = %s").format(table)
        total = db.execute(query, (meter,)).fetchone()[0]
        assert math.isclose(total, readings[-1][1] - readings[0][1]), level
    week = aggregates(db, "week", meter)[first_day_start]
    assert math.isclose(week["delta"], readings[-1][1] - readings[0][1])


@pytest.mark.parametrize(("day", "hours"), [((2025, 3, 30), 23), ((2025, 10, 26), 25), ((2025, 6, 1), 24)])
def test_dst_days_have_23_or_25_hours(db, power, day, hours):
    start = local(*day)
    write(db, power, series(start, start + timedelta(hours=hours), timedelta(minutes=10), gauge_values))
    run_jobs(db, start + timedelta(days=2))
    rows = db.execute("SELECT hour FROM energy.hourly WHERE metric = 'power_import' ORDER BY period_start").fetchall()
    assert len(rows) == hours
    daily = db.execute("SELECT day, hours, n FROM energy.daily WHERE metric = 'power_import'").fetchall()
    assert daily == [(date(*day), hours, hours * 6)]


def test_a_week_across_new_year_is_one_iso_week(db, power):
    readings = series(local(2025, 12, 29), local(2026, 1, 5), timedelta(minutes=30), gauge_values)
    write(db, power, readings)
    run_jobs(db, local(2026, 1, 6))
    weeks = db.execute("SELECT week, first_day, n, period_end FROM energy.weekly").fetchall()
    assert weeks == [("2026-W01", date(2025, 12, 29), len(readings), local(2026, 1, 5))]
    months = dict(db.execute("SELECT month, n FROM energy.monthly").fetchall())
    assert months == {"2025-12": 3 * 48}


def test_catch_up_fills_every_missed_hour_and_day_in_one_run(db, power):
    readings = series(local(2026, 3, 2), local(2026, 3, 5, 9), timedelta(minutes=5), gauge_values)
    write(db, power, readings)
    run_jobs(db, local(2026, 3, 2, 1))  # the last run before three silent days
    run_jobs(db, local(2026, 3, 5, 9, 30))
    hours = aggregates(db, "hour", power)
    assert len(hours) == 3 * 24 + 9
    assert sorted(aggregates(db, "day", power)) == [local(2026, 3, d) for d in (2, 3, 4)]
    assert_equal(hours, expected(readings, "hour", counter=False), periods=list(hours))


def test_late_readings_change_their_hour_day_week_and_month(db, power, meter):
    start = local(2026, 4, 28)  # the last day is still in raw data on May 1
    gauge = series(start, start + timedelta(days=3), timedelta(minutes=10), gauge_values)
    counter = series(start, start + timedelta(days=3), timedelta(minutes=10), counter_values(), seed=5)
    counter = [(ts, v) for ts, v in counter if not local(2026, 4, 30, 10) <= ts < local(2026, 4, 30, 11)]
    write(db, power, gauge)
    write(db, meter, counter)
    run_jobs(db, local(2026, 5, 1, 3))  # April is complete
    late_ts = local(2026, 4, 30, 10, 30)
    late_gauge = [(late_ts, 99999.0)]
    before, after = [v for ts, v in counter if ts < late_ts][-1], next(v for ts, v in counter if ts > late_ts)
    late_counter = [(late_ts, (before + after) / 2)]
    write(db, power, late_gauge)
    write(db, meter, late_counter)

    run_jobs(db, local(2026, 5, 1, 4))

    for level in LEVELS:
        assert_equal(aggregates(db, level, power), complete(expected(gauge + late_gauge, level, False), level,
                                                        local(2026, 5, 1, 4)))
        assert_equal(aggregates(db, level, meter), complete(expected(counter + late_counter, level, True), level,
                                                        local(2026, 5, 1, 4)))
    assert aggregates(db, "month", power)[local(2026, 4, 1)]["max"] == 99999.0


def test_a_second_run_changes_nothing(db, power, meter):
    write(db, power, series(local(2026, 6, 25), local(2026, 7, 3), timedelta(minutes=15), gauge_values))
    write(db, meter, series(local(2026, 6, 25), local(2026, 7, 3), timedelta(minutes=15), counter_values()))
    run_jobs(db, local(2026, 7, 3, 12))
    first = contents(db, AGGREGATE_TABLES + PROGRESS_TABLES)
    run_jobs(db, local(2026, 7, 3, 12))
    assert contents(db, AGGREGATE_TABLES + PROGRESS_TABLES) == first
    assert len(first["agg_month"]) == 2 + 4  # the two metrics and the four grid flows derived from the meter


def test_overlapping_runs_give_the_same_result_as_one(db_url, db, power):
    write(db, power, series(local(2026, 6, 1), local(2026, 6, 9), timedelta(minutes=2), gauge_values))
    errors = []

    def call():
        try:
            with psycopg.connect(db_url, autocommit=True) as conn:
                run_jobs(conn, local(2026, 6, 9, 1))
        except psycopg.Error as error:  # pragma: no cover - shown by the assertion
            errors.append(error)
    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    once = contents(db, AGGREGATE_TABLES + PROGRESS_TABLES)
    assert len(once["agg_day"]) == 8
    run_jobs(db, local(2026, 6, 9, 1))
    assert contents(db, AGGREGATE_TABLES + PROGRESS_TABLES) == once


@pytest.mark.parametrize("hour_of_day", [0, 1, 13, 23])
def test_cleanup_keeps_today_and_yesterday_and_removes_older(db, power, hour_of_day):
    write(db, power, series(local(2026, 9, 1), local(2026, 9, 8), timedelta(minutes=20), gauge_values))
    run_jobs(db, local(2026, 9, 7, hour_of_day, 10))
    kept = db.execute("SELECT DISTINCT (ts AT TIME ZONE 'Europe/Brussels')::date FROM energy.raw_reading ORDER BY 1")
    assert [day for (day,) in kept] == [date(2026, 9, 6), date(2026, 9, 7)]
    assert db.execute("SELECT count(*) FROM energy.raw_reading").fetchone() == (2 * 72,)
    assert len(aggregates(db, "day", power)) == 6


def test_cleanup_keeps_days_whose_aggregation_is_incomplete(db, power):
    days = [local(2026, 9, d) for d in range(1, 8)]
    write(db, power, series(days[0], days[-1], timedelta(minutes=20), gauge_values))
    run_jobs(db, local(2026, 9, 3, 12), "aggregate_hours")  # hours stop there: later hours "failed"
    run_jobs(db, local(2026, 9, 7, 12), "aggregate_days")
    run_jobs(db, local(2026, 9, 7, 12), "cleanup_raw")
    oldest = db.execute("SELECT min(ts) FROM energy.raw_reading").fetchone()[0]
    assert oldest >= local(2026, 9, 3) and oldest < local(2026, 9, 3, 0, 30)
    assert sorted(aggregates(db, "day", power)) == [local(2026, 9, 1), local(2026, 9, 2)]


def test_views_name_units_and_local_labels(db, power):
    write(db, power, [(local(2026, 8, 3, 9, 15), 1200.0), (local(2026, 8, 3, 9, 45), 1800.0)])
    run_jobs(db, local(2026, 8, 3, 11))
    row = db.execute("SELECT hour, source, metric, unit, n, avg FROM energy.hourly").fetchone()
    # 1200 W held for 30 minutes, then 1800 W for the last 15: (1200 * 30 + 1800 * 15) / 45
    assert row == ("2026-08-03 09:00+02", "dsmr", "power_import", "W", 2, 1400.0)


def test_today_so_far_combines_stored_hours_and_raw(db, power, meter):
    now = datetime.now(UTC)
    midnight = local_period(now, "day")
    points = [midnight + timedelta(minutes=m) for m in range(0, int((now - midnight).total_seconds() // 60), 7)]
    write(db, power, [(ts, 100.0 + i) for i, ts in enumerate(points)])
    write(db, meter, [(ts, 500.0 + i * 0.25) for i, ts in enumerate(points)])
    run_jobs(db, now, "aggregate_hours")
    today = {row[0]: row[1:] for row in db.execute("SELECT metric, n, avg, delta FROM energy.today")}
    n = len(points)
    held = [((points[i + 1] if i + 1 < n else now) - ts).total_seconds() for i, ts in enumerate(points)]
    weighted = sum((100.0 + i) * seconds for i, seconds in enumerate(held)) / (now - points[0]).total_seconds()
    assert today["power_import"][0] == n
    assert today["power_import"][1] == pytest.approx(weighted, rel=1e-3)  # the view's now() is a little later
    assert today["energy_import_t1"][2] == pytest.approx((n - 1) * 0.25)
