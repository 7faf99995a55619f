"""The money endpoints: nothing without a contract; with one, the history in EUR on the windows and periods of
/api/history, each amount checked against an independent computation (tests/tariffs.py); periods not stored yet
add up what is stored of them; today so far and this month's capacity tariff."""

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from stack.settings import with_user
from tests.database import metric_id, write
from tests.readings import local, local_period
from tests.tariffs import CHANGED, COLUMNS, FIXED, Hour, expected_costs, household, march, stored_costs, write_household
from web import create_app

AVERAGE = {"2026-03": Decimal(3650)}  # February 3100 W and March 4200 W billed (march())
ENVELOPE = ("level", "start", "end", "previous", "next", "time_zone", "today")
AXIS = ("period_start", "period_end", "local_start", "complete")


@pytest.fixture
def client(db_url):
    return create_app({"DATABASE_URL": with_user(db_url, "energy_web"), "TESTING": True}).test_client()


def as_json(row: dict | None) -> dict:
    """The amounts of a row as the API sends them (no row: every amount unknown)."""
    return {name: None if row is None or row[name] is None else float(row[name]) for name in COLUMNS}


def amounts(row: dict) -> dict:
    """The amounts of an API row."""
    return {name: row[name] for name in COLUMNS}


def added(rows: list[dict]) -> dict:
    """Rows of amounts added up, an amount unknown where one of its parts is."""
    return {name: None if any(row[name] is None for row in rows) else sum(row[name] for row in rows)
            for name in COLUMNS}


def same_chart(client, query: str) -> dict:
    """/api/costs/history for query, after checking that it is the chart /api/history draws: the same window,
    links and calendar, the same periods, complete where it says so."""
    money, energy = client.get(f"/api/costs/history?{query}").get_json(), client.get(f"/api/history?{query}").get_json()
    assert {key: money[key] for key in ENVELOPE} == {key: energy[key] for key in ENVELOPE}
    assert [{key: row[key] for key in AXIS} for row in money["rows"]] == [
        {key: row[key] for key in AXIS} for row in energy["rows"]]
    return money


def test_without_a_contract_covering_today_there_is_nothing_to_show(client, db):
    assert client.get("/api/costs").get_json() == {"tariff": False, "today": None, "capacity": None}
    replace(FIXED, valid_from=date.today() + timedelta(days=40)).insert(db)
    assert client.get("/api/costs").get_json() == {"tariff": False, "today": None, "capacity": None}
    rows = client.get("/api/costs/history?level=day&date=2026-03-10").get_json()["rows"]
    assert len(rows) == 31 and all(amounts(row) == as_json(None) for row in rows)


def test_the_history_in_eur_is_what_the_contracts_make_of_each_period(client, db):
    hours = march(db)
    FIXED.insert(db)
    CHANGED.insert(db)  # from the 16th
    expected = {level: expected_costs(hours, [FIXED, CHANGED], level, average_w=AVERAGE)
                for level in ("hour", "day", "week", "month")}

    days = same_chart(client, "level=day&date=2026-03-10")
    assert (days["start"], days["end"], days["previous"], days["next"]) == (
        "2026-03-01", "2026-04-01", "2026-02-01", "2026-04-01")
    assert [row["local_start"] for row in days["rows"]] == [f"2026-03-{day:02d}T00:00:00" for day in range(1, 32)]
    assert [amounts(row) for row in days["rows"]] == [as_json(expected["day"][local(2026, 3, day, 0)])
                                                       for day in range(1, 32)]
    assert days["rows"] == [{**row, **as_json(stored_costs(db, "day")[local(2026, 3, n + 1, 0)])}
                            for n, row in enumerate(days["rows"])]  # energy.costs as it is

    dst = same_chart(client, "level=hour&date=2026-03-29")["rows"]  # 23 hours, 02:00 skipped
    assert [row["local_start"][11:16] for row in dst][:3] == ["00:00", "01:00", "03:00"] and len(dst) == 23
    autumn = same_chart(client, "level=hour&date=2025-10-26")["rows"]  # 25 hours, 02:00 twice; no contract yet
    assert [row["local_start"][11:16] for row in autumn][2:4] == ["02:00", "02:00"] and len(autumn) == 25
    assert [amounts(row) for row in dst] == [as_json(expected["hour"][local(2026, 3, 29, 0) + timedelta(hours=n)])
                                             for n in range(23)]

    weeks = same_chart(client, "level=week&date=2026-03-29")["rows"]
    by_start = {datetime.fromisoformat(row["period_start"]): amounts(row) for row in weeks}
    # the week from 23 February is not covered from its Monday: unknown, as in energy.costs
    assert by_start[local(2026, 2, 23, 0)] == as_json(None)
    for monday in (local(2026, 3, 2, 0), local(2026, 3, 9, 0), local(2026, 3, 16, 0), local(2026, 3, 23, 0)):
        assert by_start[monday] == as_json(expected["week"][monday])

    months = same_chart(client, "level=month&date=2026-06-01")["rows"]
    assert [amounts(row) for row in months] == [as_json(expected["month"].get(local(2026, month, 1, 0)))
                                                for month in range(1, 13)]
    assert amounts(months[2])["total_eur"] is not None

    table = list(csv.DictReader(io.StringIO(client.get("/api/costs/history.csv?level=day&date=2026-03-10").text)))
    assert [{name: float(line[name]) for name in COLUMNS} for line in table] == [amounts(r) for r in days["rows"]]


def test_a_year_or_a_bad_date_is_refused_with_the_reason(client):
    for query, reason in (
            ("level=year", "level must be one of hour, day, week, month, got 'year'"),
            ("level=day&date=2026-3-1", "date must be YYYY-MM-DD, got '2026-3-1'"),
            ("level=quarter", "level must be one of hour, day, week, month, got 'quarter'")):
        for path in ("/api/costs/history", "/api/costs/history.csv"):
            response = client.get(f"{path}?{query}")
            assert (response.status_code, response.get_json()) == (400, {"error": reason}), (path, query)


def test_a_period_not_stored_yet_adds_up_what_is_stored_of_it(client, db):
    hours = household(local(2026, 3, 1, 0), local(2026, 4, 1, 0))
    write_household(db, hours)
    write(db, metric_id(db, "dsmr", "demand_max_month"), [(local(2026, 2, 10, 18, 15), 3100.0),
                                                           (local(2026, 3, 12, 7, 45), 4200.0)])
    # days stored until the 20th, hours until noon on the 20th: the week of the 16th and March are not stored
    db.execute("CALL energy.run_aggregations(%s)", (local(2026, 3, 20, 0, 5),))
    # the meter repeats the month's peak in every telegram: its latest reading (raw, not cleaned yet) says March's
    write(db, metric_id(db, "dsmr", "demand_max_month"), [(local(2026, 3, 20, 11, 0), 4200.0)])
    db.execute("CALL energy.aggregate_hours(%s)", (local(2026, 3, 20, 12, 5),))
    CHANGED.insert(db)  # from Monday the 16th
    expected = {level: expected_costs(hours, [CHANGED], level, average_w=AVERAGE) for level in ("hour", "day")}
    stored_days = [expected["day"][local(2026, 3, day, 0)] for day in range(16, 20)]
    stored_hours = [expected["hour"][local(2026, 3, 20, 0) + timedelta(hours=n)] for n in range(12)]

    weeks = {row["period_start"]: row for row in same_chart(client, "level=week&date=2026-03-18")["rows"]}
    running = weeks[local(2026, 3, 16, 0).isoformat()]
    assert running["complete"] is False
    assert amounts(running) == as_json(added(stored_days + stored_hours))
    assert amounts(weeks[local(2026, 3, 9, 0).isoformat()]) == as_json(None)  # no contract then

    # March is not covered from its first day: unknown, though some of its days are
    march_row = same_chart(client, "level=month&date=2026-03-18")["rows"][2]
    assert (march_row["local_start"], amounts(march_row)) == ("2026-03-01T00:00:00", as_json(None))
    FIXED.insert(db)
    both = {level: expected_costs(hours, [FIXED, CHANGED], level, average_w=AVERAGE) for level in ("hour", "day")}
    march_row = same_chart(client, "level=month&date=2026-03-18")["rows"][2]
    assert amounts(march_row) == as_json(added(
        [both["day"][local(2026, 3, day, 0)] for day in range(1, 20)]
        + [both["hour"][local(2026, 3, 20, 0) + timedelta(hours=n)] for n in range(12)]))

    day = same_chart(client, "level=hour&date=2026-03-20")["rows"]
    assert [amounts(row) for row in day] == [as_json(both["hour"][local(2026, 3, 20, 0) + timedelta(hours=n)])
                                             for n in range(12)] + [as_json(None)] * 12


def twelve_month_average(peaks: dict[str, float], month: str) -> Decimal:
    """The average of the billed peaks (at least 2.5 kW) of the months present among the twelve ending with month."""
    year, number = map(int, month.split("-"))
    window = {f"{year - (number - n <= 0)}-{(number - n - 1) % 12 + 1:02d}" for n in range(12)}
    billed = [Decimal(max(peak, 2500)) for key, peak in peaks.items() if key in window]
    return sum(billed) / len(billed)


def test_today_and_this_months_projected_capacity_tariff(client, db):
    march(db)  # peaks of 3100 W in February and 4200 W in March
    CHANGED.insert(db)
    now = datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    write(db, metric_id(db, "dsmr", "demand_max_month"), [(now - timedelta(seconds=1), 2000.0)])
    # the meter, silent since March, counts 0.5 kWh within the running hour (the engine's running hours count a
    # step across hours only in part)
    meter = metric_id(db, "dsmr", "energy_import_t1")
    last = db.execute("SELECT max(value) FROM energy.raw_reading WHERE metric_id = %s", (meter,)).fetchone()[0]
    write(db, meter, [(hour + (now - hour) / 3, last), (hour + (now - hour) * 2 / 3, last + 0.5)])
    body = client.get("/api/costs").get_json()
    assert body["tariff"] is True
    month = db.execute("SELECT to_char(today, 'YYYY-MM') FROM energy.calendar").fetchone()[0]
    average = twelve_month_average({"2026-02": 3100, "2026-03": 4200, month: 2000}, month)
    expected = average / 1000 * Decimal("49.87") / 12 * Decimal("1.21")  # the whole month at this contract
    assert body["capacity"] == {"month": month, "average_12_months_w": float(average),
                                "capacity_eur": float(expected.quantize(Decimal("0.01")))}
    assert body["today"] == as_json(next(iter(stored_costs(db, "today").values())))
    # 0.5 kWh on the day register, nothing else today
    assert body["today"]["import_eur"] == float((Decimal("0.5") * Decimal("0.2917") * Decimal("1.21")).quantize(
        Decimal("0.01")))
    assert body["today"]["export_eur"] == 0 and body["today"]["gas_eur"] == 0


def test_the_running_day_week_and_month_are_today_so_far_and_the_days_before(client, db):
    now = datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    # forty days of a household; the running hour has counted nothing so far (its readings say so)
    hours = {**household(hour - timedelta(days=40), hour), hour: Hour(*[Decimal(0)] * 6)}
    write_household(db, hours, last_reading=now - timedelta(seconds=1))
    write(db, metric_id(db, "dsmr", "demand_max_month"), [(now - timedelta(minutes=5), 3300.0)])
    db.execute("CALL energy.run_aggregations()")
    tariff = replace(FIXED, valid_from=date.today() - timedelta(days=60))
    tariff.insert(db)
    today = db.execute("SELECT today FROM energy.calendar").fetchone()[0]
    # today's row has the whole day's fees, as a day's; the only month with a known peak is this one
    days = expected_costs(hours, [tariff], "day", average_w={f"{today:%Y-%m}": Decimal(3300)})
    midnight = local_period(now, "day")

    costs = client.get("/api/costs").get_json()
    running_day = same_chart(client, "level=day")["rows"][today.day - 1]
    assert running_day["complete"] is False and running_day["period_start"] == midnight.isoformat()
    assert amounts(running_day) == costs["today"] == as_json(days[midnight])

    for level, row in (("week", -1), ("month", today.month - 1)):
        first = local_period(now, level)
        running = same_chart(client, f"level={level}")["rows"][row]
        assert running["period_start"] == first.isoformat() and running["complete"] is False
        assert amounts(running) == as_json(added([day for start, day in days.items() if start >= first])), level
