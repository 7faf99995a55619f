"""The quarter-hour level (energy.agg_quarter, energy.quarterly) against an independent Python computation."""

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from tests.database import metric_id, run_jobs, write
from tests.readings import BRUSSELS, local


def quarter_of(ts: datetime) -> datetime:
    """The start of the local wall-clock quarter hour that holds ts, in UTC (fold kept for the repeated hour)."""
    wall = ts.astimezone(BRUSSELS)
    return wall.replace(minute=wall.minute - wall.minute % 15, second=0, microsecond=0).astimezone(UTC)


def quarters(readings: list[tuple[datetime, float]], as_of: datetime | None = None) -> dict[datetime, dict]:
    """Per quarter hour: n, min, max, first, last of its own readings, and the average of the power over the time
    from its first reading to its end (or as_of, for the running one), each reading holding until the next."""
    by_quarter: dict[datetime, list[tuple[datetime, float]]] = {}
    for ts, value in sorted(readings):
        by_quarter.setdefault(quarter_of(ts), []).append((ts, value))
    result = {}
    for start, own in by_quarter.items():
        end = min(start + timedelta(minutes=15), as_of or datetime.max.replace(tzinfo=UTC))
        held = [(value, ((own[i + 1][0] if i + 1 < len(own) else end) - ts).total_seconds())
                for i, (ts, value) in enumerate(own)]
        values = [value for _, value in own]
        result[start] = {"n": len(own), "min": min(values), "max": max(values), "first": values[0],
                         "last": values[-1], "avg": sum(v * s for v, s in held) / sum(s for _, s in held)}
    return result


def stored_quarters(db, metric: int) -> dict[datetime, dict]:
    """The stored quarter hours of one metric."""
    rows = db.execute("SELECT period_start, n, min, max, first, last, avg FROM energy.agg_quarter "
                      "WHERE metric_id = %s ORDER BY period_start", (metric,)).fetchall()
    return {row[0]: dict(zip(("n", "min", "max", "first", "last", "avg"), row[1:], strict=True)) for row in rows}


def assert_quarters(actual: dict, wanted: dict) -> None:
    """The same quarters with the same figures."""
    assert sorted(actual) == sorted(wanted)
    for start, row in wanted.items():
        for column, value in row.items():
            assert math.isclose(actual[start][column], value, rel_tol=1e-9), (start, column)


def irregular(start: datetime, end: datetime, seed: int) -> list[tuple[datetime, float]]:
    """A power read at irregular moments (a second to four minutes apart), as a meter with gaps would be."""
    rng, readings, ts = random.Random(seed), [], start
    while ts < end:
        readings.append((ts, round(rng.uniform(0, 6000), 1)))
        ts += timedelta(seconds=rng.choice((1, 1, 7, 30, 95, 240)) + rng.random())
    return readings


@pytest.mark.parametrize(("day", "count"), [((2025, 10, 26), 100), ((2026, 3, 29), 92), ((2026, 5, 6), 96)])
def test_quarters_of_a_day_equal_an_independent_computation(db, day, count):
    power = metric_id(db, "dsmr", "power_import")
    start, end = local(*day), (datetime(*day) + timedelta(days=1)).replace(tzinfo=BRUSSELS).astimezone(UTC)
    readings = irregular(start, end, seed=sum(day))
    write(db, power, readings)
    run_jobs(db, end + timedelta(minutes=5))
    wanted = quarters(readings)
    assert len(wanted) == count  # 23, 24 or 25 hours of four quarters
    assert_quarters(stored_quarters(db, power), wanted)
    labels = [row[0] for row in db.execute(
        "SELECT quarter FROM energy.quarterly WHERE metric = 'power_import' ORDER BY period_start")]
    assert len(labels) == count and len(set(labels)) == count  # the repeated 02:00 hour has its own labels


def test_only_the_power_and_demand_metrics_get_quarters(db):
    for source, name in (("dsmr", "power_export"), ("dsmr", "demand_avg_quarter"), ("dsmr", "voltage_l1"),
                         ("dsmr", "energy_import_t1"), ("sun2000", "power_active"), ("sun2000", "rated_power")):
        write(db, metric_id(db, source, name), [(local(2026, 5, 6, 10, 1), 100.0), (local(2026, 5, 6, 10, 20), 200.0)])
    run_jobs(db, local(2026, 5, 6, 12))
    assert {row[0] for row in db.execute("SELECT DISTINCT source || '.' || metric FROM energy.quarterly")} == {
        "dsmr.power_export", "dsmr.demand_avg_quarter", "sun2000.power_active"}


def test_late_readings_redo_their_quarters_and_a_second_run_changes_nothing(db):
    power = metric_id(db, "dsmr", "power_import")
    readings = irregular(local(2026, 5, 6, 8), local(2026, 5, 6, 12), seed=3)
    write(db, power, readings)
    run_jobs(db, local(2026, 5, 6, 12, 5))
    late = [(local(2026, 5, 6, 9, 14, 59), 9000.0), (local(2026, 5, 6, 9, 15, 0), 10.0)]
    write(db, power, late)
    run_jobs(db, local(2026, 5, 6, 13, 5))
    assert_quarters(stored_quarters(db, power), quarters(readings + late))
    before = db.execute("SELECT * FROM energy.agg_quarter ORDER BY metric_id, period_start").fetchall()
    run_jobs(db, local(2026, 5, 6, 13, 5))
    assert db.execute("SELECT * FROM energy.agg_quarter ORDER BY metric_id, period_start").fetchall() == before


def test_catch_up_stores_every_quarter_before_the_cleanup_removes_the_raw_data(db):
    power = metric_id(db, "dsmr", "power_import")
    readings = irregular(local(2026, 5, 4, 22), local(2026, 5, 6, 3), seed=4)
    write(db, power, readings)
    run_jobs(db, local(2026, 5, 8, 1))  # days later: aggregates, then cleans the raw days
    assert db.execute("SELECT count(*) FROM energy.raw_reading").fetchone() == (0,)
    assert_quarters(stored_quarters(db, power), quarters(readings))


def test_the_running_quarters_come_from_raw_readings_as_of_now(db):
    power = metric_id(db, "dsmr", "power_import")
    now = datetime.now(UTC)
    readings = [(now - timedelta(seconds=s), 1000.0 + s % 700) for s in range(2990, -1, -13)]  # the last one now
    write(db, power, readings)
    rows = db.execute("SELECT period_start, n, min, max, first, last, avg, complete, now() FROM energy.quarterly "
                      "WHERE metric = 'power_import' ORDER BY period_start").fetchall()
    as_of = rows[0][-1]
    wanted = quarters(readings, as_of=as_of)
    actual = {row[0]: dict(zip(("n", "min", "max", "first", "last", "avg"), row[1:7], strict=True)) for row in rows}
    assert_quarters(actual, wanted)
    assert [row[7] for row in rows] == [start + timedelta(minutes=15) <= as_of for start in sorted(wanted)]
    assert rows[-1][7] is False  # the running quarter
