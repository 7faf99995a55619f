"""The dashboard's API against a seeded database: every figure equals what the readings imply."""

from datetime import UTC, datetime, timedelta

import pytest

from stack.settings import with_user
from tests.readings import metric_id, write
from tests.test_aggregation import local
from web import create_app


@pytest.fixture
def app(db_url):
    return create_app({"DATABASE_URL": with_user(db_url, "energy_web"), "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def seed_counters(db, start: datetime, hours: int, rates: dict[str, float], step_minutes: int = 10) -> dict:
    """Counters growing at constant rates (units per hour) from start; returns each metric's readings."""
    series = {}
    for (source, name), rate in rates.items():
        readings = [(start + timedelta(minutes=m), 1000.0 + rate * m / 60)
                    for m in range(0, hours * 60 + 1, step_minutes)]
        write(db, metric_id(db, source, name), readings)
        series[name] = readings
    return series


RATES = {("dsmr", "energy_import_t1"): 0.5, ("dsmr", "energy_import_t2"): 0.25, ("dsmr", "energy_export_t1"): 0.75,
         ("sun2000", "energy_yield_total"): 2.0, ("dsmr", "gas_volume"): 0.125}


def test_live_power_flow(client, db):
    now = datetime.now(UTC) - timedelta(seconds=2)
    for source, name, value in (("dsmr", "power_import", 1500.0), ("dsmr", "power_export", 0.0),
                                ("sun2000", "power_active", 2200.0), ("sun2000", "rated_power", 5000.0)):
        write(db, metric_id(db, source, name), [(now, value)])
    body = client.get("/api/live").get_json()
    assert body["now"]["solar_w"] == 2200 and body["now"]["import_w"] == 1500
    assert body["now"]["consumption_w"] == 3700 and body["now"]["solar_share_pct"] == 44.0
    assert body["recent"][-1]["import_w"] == 1500 and body["recent"][-1]["solar_w"] == 2200


def test_hours_of_a_day_days_of_a_month_and_months_of_a_year(client, db):
    seed_counters(db, local(2026, 3, 9, 22), 30, RATES)  # 9 March 22:00 to 11 March 04:00
    db.execute("CALL energy.run_aggregations(%s)", (local(2026, 3, 11, 5),))

    hours = client.get("/api/history?level=hour&date=2026-03-10").get_json()
    assert [r["label"] for r in hours["rows"]] == [f"{h:02d}:00" for h in range(24)]
    assert hours["previous"] == "2026-03-09" and hours["next"] == "2026-03-11"
    for row in hours["rows"]:
        assert row["produced_kwh"] == 2.0 and row["imported_kwh"] == 0.75 and row["exported_kwh"] == 0.75
        assert row["consumed_kwh"] == 2.0 and row["gas_m3"] == 0.125
        assert row["self_consumption_pct"] == 62.5 and row["self_sufficiency_pct"] == 62.5

    days = client.get("/api/history?level=day&date=2026-03-10").get_json()
    assert days["title"] == "March 2026"
    # 9 March: 22:00 to 23:50, as the first reading has no predecessor
    assert [(r["label"], r["produced_kwh"]) for r in days["rows"]] == [("09", 3.667), ("10", 48.0)]
    months = client.get("/api/history?level=month&date=2026-03-10").get_json()
    assert months["rows"] == []  # March is not complete


def test_today_so_far(client, db):
    now = datetime.now(UTC)
    midnight = datetime.fromisoformat(db.execute(
        "SELECT date_trunc('day', now(), 'Europe/Brussels')").fetchone()[0].isoformat())
    minutes = int((now - midnight).total_seconds() // 600) * 10
    start = now - timedelta(minutes=minutes)
    for (source, name), rate in RATES.items():
        write(db, metric_id(db, source, name),
              [(start + timedelta(minutes=m), 1000.0 + rate * m / 60) for m in range(0, minutes + 1, 10)])
    db.execute("CALL energy.aggregate_hours(%s)", (now,))
    today = client.get("/api/today").get_json()["today"]
    hours = minutes / 60
    assert today["produced_kwh"] == pytest.approx(2.0 * hours, abs=1e-3)
    assert today["imported_kwh"] == pytest.approx(0.75 * hours, abs=1e-3)
    assert today["gas_m3"] == pytest.approx(0.125 * hours, abs=1e-3)


def test_capacity_tariff(client, db):
    peaks = metric_id(db, "dsmr", "demand_max_month")
    write(db, peaks, [(local(2026, 1, 5, 18, 15), 1800.0), (local(2026, 1, 20, 19, 0), 4200.0),
                      (local(2026, 2, 2, 8, 30), 2100.0)])
    db.execute("CALL energy.run_aggregations(%s)", (local(2026, 3, 1, 2),))
    body = client.get("/api/capacity").get_json()
    assert [(m["month"], m["peak_w"], m["billed_w"]) for m in body["months"]] == [
        ("2026-01", 4200, 4200), ("2026-02", 2100, 2500)]
    assert body["months"][0]["peak_at"] == local(2026, 1, 20, 19, 0).isoformat()
    assert body["current"]["average_12_months_w"] == 3350


@pytest.mark.parametrize(("query", "message"), [
    ("level=year", "level must be one of hour, day, week, month, got 'year'"),
    ("level=day&date=yesterday", "date must be YYYY-MM-DD, got 'yesterday'"),
    ("level=day&date=2026-02-30", "date must be YYYY-MM-DD, got '2026-02-30'"),
    ("level=hour&date=1850-01-01", "date must be between 2000 and 2100, got '1850-01-01'"),
])
def test_bad_parameters_get_400_with_a_message(client, query, message):
    response = client.get(f"/api/history?{query}")
    assert response.status_code == 400
    assert response.get_json() == {"error": message}


def test_health_and_a_missing_database(client):
    body = client.get("/healthz").get_json()
    assert (body["status"], body["database"], body["problems"]) == ("ok", "ok", [])
    broken = create_app({"DATABASE_URL": "postgresql://energy_web@127.0.0.1:1/energy"}).test_client()
    assert broken.get("/healthz").status_code == 503
    assert broken.get("/api/live").get_json() == {"error": "database unavailable"}


def test_password_and_security_headers(db_url):
    app = create_app({"DATABASE_URL": with_user(db_url, "energy_web"), "PASSWORD": "s3cret"})
    client = app.test_client()
    assert client.get("/").status_code == 401
    assert client.get("/api/live", auth=("me", "wrong")).status_code == 401
    page = client.get("/", auth=("me", "s3cret"))
    assert page.status_code == 200 and b"chart-4.6.1.umd.min.js" in page.data
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert client.get("/healthz").status_code == 200
    assert b"<script>" not in page.data  # no inline script
