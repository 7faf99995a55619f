"""energy.history and energy.history_compared: a fixed axis, the running period included, figures that add up."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from psycopg import sql

from stack.settings import with_user
from tests.database import run_jobs, seed_counters
from tests.readings import BRUSSELS, local, local_period

# the figures an hour of the meters of tests.database.seed_counters makes (kWh, gas in m3)
HOUR = {"produced_kwh": 2.0, "imported_kwh": 0.75, "imported_day_kwh": 0.5, "imported_night_kwh": 0.25,
        "exported_kwh": 0.75, "exported_day_kwh": 0.75, "exported_night_kwh": 0.0, "consumed_kwh": 2.0,
        "self_consumption_pct": 62.5, "self_sufficiency_pct": 62.5, "gas_m3": 0.125}
FIGURES = tuple(HOUR)


def history(db, level: str, first: date, after: date, compared: bool = False) -> list[dict]:
    """The rows of energy.history (or history_compared) as dicts."""
    function = sql.Identifier("energy", "history_compared" if compared else "history")
    cursor = db.execute(sql.SQL("SELECT * FROM {}(%s, %s, %s)").format(function), (level, first, after))
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def figures(row: dict) -> dict:
    """The figures of a row, as floats."""
    return {name: None if row[name] is None else float(row[name]) for name in FIGURES}


def expected(hours: float) -> dict:
    """The figures of a span of hours at the constant rates (percentages do not scale)."""
    return {name: value if name.endswith("_pct") else round(value * hours, 3) for name, value in HOUR.items()}


@pytest.mark.parametrize(("day", "hours"), [(date(2025, 10, 26), 25), (date(2026, 3, 29), 23), (date(2026, 5, 6), 24)])
def test_the_hours_of_a_day_dst_days_included(db, day, hours):
    midnight = local(day.year, day.month, day.day)
    seed_counters(db, midnight - timedelta(hours=2), midnight + timedelta(hours=hours, minutes=10))
    run_jobs(db, midnight + timedelta(days=2))
    rows = history(db, "hour", day, day + timedelta(days=1))
    assert len(rows) == hours
    assert [row["period_start"] for row in rows] == [midnight + timedelta(hours=h) for h in range(hours)]
    assert all(row["complete"] for row in rows)
    for row in rows:
        assert figures(row) == HOUR


def test_periods_without_data_are_on_the_axis_with_no_figures(db):
    seed_counters(db, local(2026, 2, 10, 8), local(2026, 2, 12, 8))  # 10 February 08:00 to 12 February 08:00
    run_jobs(db, local(2026, 3, 2, 1))
    days = history(db, "day", date(2026, 2, 1), date(2026, 3, 1))
    assert [row["local_start"].day for row in days] == list(range(1, 29))
    with_data = {row["local_start"].day: figures(row) for row in days if row["produced_kwh"] is not None}
    assert with_data == {10: expected(16), 11: expected(24), 12: expected(8)}
    empty = [row for row in days if row["local_start"].day not in with_data]
    assert all(value is None for row in empty for value in figures(row).values())
    hours = history(db, "hour", date(2026, 2, 10), date(2026, 2, 11))
    assert [row["produced_kwh"] is None for row in hours] == [True] * 8 + [False] * 16


def test_stored_periods_are_the_figures_of_energy_flows(db):
    seed_counters(db, local(2026, 1, 28, 5), local(2026, 3, 3, 7), step_minutes=30)
    run_jobs(db, local(2026, 3, 9, 1))
    columns = sql.SQL(", ").join(map(sql.Identifier, FIGURES))
    windows = (("hour", date(2026, 2, 3), date(2026, 2, 4)), ("day", date(2026, 2, 1), date(2026, 3, 1)),
               ("week", date(2026, 1, 26), date(2026, 3, 9)), ("month", date(2026, 1, 1), date(2026, 4, 1)))
    for level, first, after in windows:
        rows = [row for row in history(db, level, first, after) if row["complete"]]
        flows = db.execute(sql.SQL("SELECT period_start, {} FROM energy.flows WHERE level = %s "
                                   "AND local_start >= %s AND local_start < %s ORDER BY 1").format(columns),
                           (level, first, after)).fetchall()
        assert len(rows) == len(flows) > 0
        for row, flow in zip(rows, flows, strict=True):
            assert (row["period_start"], *(row[name] for name in FIGURES)) == flow


def test_periods_the_jobs_have_not_reached_add_up_their_hours_and_days(db):
    seed_counters(db, local(2026, 4, 27), local(2026, 5, 4, 12))  # Monday 27 April to Monday 4 May 12:00
    run_jobs(db, local(2026, 5, 4, 13), "aggregate_hours")  # hours only: no day, week or month stored yet
    levels = {"day": (date(2026, 4, 27), date(2026, 5, 5)), "week": (date(2026, 4, 27), date(2026, 5, 11)),
              "month": (date(2026, 4, 1), date(2026, 6, 1)), "year": (date(2026, 1, 1), date(2027, 1, 1))}
    before = {level: history(db, level, *span) for level, span in levels.items()}
    assert [figures(row) for row in before["day"]] == [expected(24)] * 7 + [expected(12)]
    assert [figures(row)["produced_kwh"] for row in before["week"]] == [336.0, 24.0]
    assert [figures(row)["produced_kwh"] for row in before["month"]] == [192.0, 168.0]
    assert [figures(row)["produced_kwh"] for row in before["year"]] == [360.0]
    assert not any(row["complete"] for rows in before.values() for row in rows)

    run_jobs(db, local(2026, 6, 1, 1))  # the days, the week of 27 April and April are stored now
    after = {level: history(db, level, *span) for level, span in levels.items()}
    for level in levels:
        assert [figures(row) for row in after[level]] == [figures(row) for row in before[level]], level
    assert [row["complete"] for row in after["week"]] == [True, True]
    assert [row["complete"] for row in after["month"]] == [True, True]
    assert [row["complete"] for row in after["year"]] == [False]


def test_the_running_day_is_today_so_far(db):
    now = datetime.now(UTC)
    midnight = local_period(now, "day")
    seed_counters(db, midnight - timedelta(hours=3), now, step_minutes=1)
    run_jobs(db, now, "aggregate_hours")
    today = db.execute("SELECT (now() AT TIME ZONE energy.time_zone())::date").fetchone()[0]
    rows = history(db, "day", today, today + timedelta(days=1))
    assert len(rows) == 1 and not rows[0]["complete"]
    flows = db.execute(sql.SQL("SELECT {} FROM energy.flows WHERE level = 'today'").format(
        sql.SQL(", ").join(map(sql.Identifier, FIGURES)))).fetchone()
    assert tuple(rows[0][name] for name in FIGURES) == flows
    whole_minutes = int((now - midnight).total_seconds() // 60)
    assert float(rows[0]["produced_kwh"]) == pytest.approx(2.0 * whole_minutes / 60, abs=0.002)
    hours = history(db, "hour", today, today + timedelta(days=1))
    assert float(sum(row["produced_kwh"] or 0 for row in hours)) == pytest.approx(float(rows[0]["produced_kwh"]),
                                                                                 abs=0.01)


def test_each_period_is_compared_with_the_one_before(db):
    seed_counters(db, local(2025, 3, 1), local(2025, 4, 1), scale=0.5, step_minutes=30)
    seed_counters(db, local(2026, 3, 1), local(2026, 3, 20), step_minutes=30, base=3000.0)
    run_jobs(db, local(2026, 4, 2))
    days = history(db, "day", date(2026, 3, 1), date(2026, 4, 1), compared=True)
    assert len(days) == 31
    for row in days:
        assert row["previous_local_start"] == row["local_start"].replace(year=2025)
        hours = 23 if row["local_start"].day == 30 else 24  # 30 March 2025 lost an hour to summer time
        assert float(row["previous_produced_kwh"]) == 1.0 * hours
        assert float(row["previous_gas_m3"]) == round(0.0625 * hours, 3)
    # the last reading, at midnight, closes the 19th and is the 20th's only one
    assert [row["produced_kwh"] for row in days[:21]] == [Decimal("48.000")] * 19 + [Decimal("0.000"), None]

    weeks = history(db, "week", date(2026, 3, 2), date(2026, 3, 16), compared=True)
    # ISO weeks 10 and 11 of 2026 against weeks 10 and 11 of 2025 (3 and 10 March 2025)
    assert [row["previous_local_start"] for row in weeks] == [datetime(2025, 3, 3), datetime(2025, 3, 10)]
    assert [float(row["previous_consumed_kwh"]) for row in weeks] == [168.0, 168.0]
    months = history(db, "month", date(2026, 1, 1), date(2027, 1, 1), compared=True)
    assert [row["previous_local_start"].month for row in months] == list(range(1, 13))
    assert float(months[2]["previous_produced_kwh"]) == pytest.approx(0.5 * 2.0 * (31 * 24 - 1))


def test_no_comparison_where_the_period_before_does_not_exist(db):
    leap = history(db, "day", date(2028, 2, 1), date(2028, 3, 1), compared=True)
    assert [row["previous_local_start"] is None for row in leap] == [False] * 28 + [True]
    week_53 = history(db, "week", date(2026, 12, 28), date(2027, 1, 4), compared=True)  # 2026-W53; 2025 had 52
    assert [row["previous_local_start"] for row in week_53] == [None]
    autumn = history(db, "hour", date(2025, 10, 27), date(2025, 10, 28), compared=True)
    assert len(autumn) == 24 and autumn[2]["previous_local_start"] == datetime(2025, 10, 26, 2)
    twice = history(db, "hour", date(2025, 10, 26), date(2025, 10, 27), compared=True)
    assert [row["previous_local_start"] for row in twice[2:4]] == [datetime(2025, 10, 25, 2)] * 2


def test_years_and_a_wrong_level(db):
    seed_counters(db, local(2024, 12, 31, 22), local(2025, 1, 1, 2))
    run_jobs(db, local(2025, 2, 1, 2))
    years = history(db, "year", date(2022, 1, 1), date(2027, 1, 1))
    assert [row["local_start"].year for row in years] == [2022, 2023, 2024, 2025, 2026]
    assert [None if row["produced_kwh"] is None else float(row["produced_kwh"]) for row in years] == [
        None, None, 4.0, 4.0, None]
    with pytest.raises(psycopg.errors.RaiseException, match="unknown history level fortnight"):
        history(db, "fortnight", date(2025, 1, 1), date(2025, 2, 1))


def test_the_web_role_may_read_the_history(db_url, db):
    seed_counters(db, local(2026, 5, 6, 10), local(2026, 5, 6, 14))
    run_jobs(db, local(2026, 5, 7, 1))
    with psycopg.connect(with_user(db_url, "energy_web"), autocommit=True) as web:
        rows = history(web, "hour", date(2026, 5, 6), date(2026, 5, 7), compared=True)
    assert [row["produced_kwh"] for row in rows[10:14]] == [Decimal("2.000")] * 4


def test_a_brussels_midnight_is_the_axis_start(db):
    rows = history(db, "day", date(2026, 7, 1), date(2026, 7, 3))
    assert [row["period_start"] for row in rows] == [datetime(2026, 7, 1, tzinfo=BRUSSELS).astimezone(UTC),
                                                     datetime(2026, 7, 2, tzinfo=BRUSSELS).astimezone(UTC)]
