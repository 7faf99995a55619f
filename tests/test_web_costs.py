"""The money endpoints: nothing without a contract, energy.costs as it is with one, this month's capacity tariff."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from stack.settings import with_user
from tests.database import metric_id, write
from tests.readings import local
from tests.tariffs import stored_costs
from tests.test_costs import CHANGED, FIXED, march
from web import create_app


@pytest.fixture
def client(db_url):
    return create_app({"DATABASE_URL": with_user(db_url, "energy_web"), "TESTING": True}).test_client()


def as_json(row: dict) -> dict:
    """A row of energy.costs as the API sends it."""
    return {name: None if value is None else float(value) for name, value in row.items()}


def test_without_a_contract_covering_today_there_is_nothing_to_show(client, db):
    assert client.get("/api/costs").get_json() == {"tariff": False, "today": None, "capacity": None}
    replace(FIXED, valid_from=date.today() + timedelta(days=40)).insert(db)
    assert client.get("/api/costs").get_json() == {"tariff": False, "today": None, "capacity": None}
    assert client.get("/api/costs/history?level=day&date=2026-03-10").get_json()["rows"] == []


def test_the_history_in_eur_is_energy_costs_as_it_is(client, db):
    march(db)
    FIXED.insert(db)
    CHANGED.insert(db)
    days = client.get("/api/costs/history?level=day&date=2026-03-10").get_json()
    assert days["title"] == "March 2026"
    stored = stored_costs(db, "day")
    assert [row.pop("label") for row in days["rows"]] == [f"{day:02d}" for day in range(1, 32)]
    assert days["rows"] == [as_json(stored[local(2026, 3, day, 0)]) for day in range(1, 32)]
    hours = client.get("/api/costs/history?level=hour&date=2026-03-29").get_json()["rows"]
    assert [row["label"] for row in hours][:3] == ["00:00", "01:00", "03:00"] and len(hours) == 23
    months = client.get("/api/costs/history?level=month&date=2026-06-01").get_json()["rows"]
    assert months == [{"label": "Mar", **as_json(stored_costs(db, "month")[local(2026, 3, 1, 0)])}]
    assert client.get("/api/costs/history?level=year").status_code == 400
    assert client.get("/api/costs/history?level=day&date=2026-3-1").get_json() == {
        "error": "date must be YYYY-MM-DD, got '2026-3-1'"}


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
