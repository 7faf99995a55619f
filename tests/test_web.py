"""The dashboard's API against a seeded database: every figure equals what the readings imply."""

import csv
import io
import os
import signal
import socket
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from stack.settings import with_user
from tests.database import COUNTER_RATES, metric_id, seed_counters, write
from tests.procs import free_port, start, stop, wait_for
from tests.readings import BRUSSELS, local
from web import create_app


@pytest.fixture
def app(db_url):
    return create_app({"DATABASE_URL": with_user(db_url, "energy_web"), "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


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
    seed_counters(db, local(2026, 3, 9, 22), local(2026, 3, 11, 4))  # 9 March 22:00 to 11 March 04:00
    db.execute("CALL energy.run_aggregations(%s)", (local(2026, 3, 11, 5),))

    hours = client.get("/api/history?level=hour&date=2026-03-10").get_json()
    assert (hours["start"], hours["end"], hours["time_zone"]) == ("2026-03-10", "2026-03-11", "Europe/Brussels")
    assert [r["period_start"] for r in hours["rows"]] == [(local(2026, 3, 10) + timedelta(hours=h)).isoformat()
                                                          for h in range(24)]
    assert hours["previous"] == "2026-03-09" and hours["next"] == "2026-03-11"
    for row in hours["rows"]:
        assert row["produced_kwh"] == 2.0 and row["imported_kwh"] == 0.75 and row["exported_kwh"] == 0.75
        assert row["consumed_kwh"] == 2.0 and row["gas_m3"] == 0.125 and row["complete"] is True
        assert row["self_consumption_pct"] == 62.5 and row["self_sufficiency_pct"] == 62.5
        assert row["imported_day_kwh"] == 0.5 and row["imported_night_kwh"] == 0.25

    days = client.get("/api/history?level=day&date=2026-03-10").get_json()
    assert (days["start"], days["end"], len(days["rows"])) == ("2026-03-01", "2026-04-01", 31)
    # 9 March: 22:00 to midnight, the reading at 00:00 closing the day; the 11th until 04:00
    assert [r["produced_kwh"] for r in days["rows"][7:12]] == [None, 4.0, 48.0, 8.0, None]
    months = client.get("/api/history?level=month&date=2026-03-10").get_json()
    assert [r["produced_kwh"] for r in months["rows"]] == [None, None, 60.0] + [None] * 9
    assert months["rows"][2]["complete"] is False  # March is not over: its days add up
    years = client.get("/api/history?level=year&date=2026-03-10").get_json()
    assert [(r["local_start"][:4], r["produced_kwh"]) for r in years["rows"]] == [
        ("2022", None), ("2023", None), ("2024", None), ("2025", None), ("2026", 60.0)]
    assert (years["previous"], years["next"]) == ("2021-01-01", "2031-01-01")


def test_the_csv_has_the_rows_of_the_json(client, db):
    seed_counters(db, local(2026, 3, 9, 22), local(2026, 3, 11, 4))
    db.execute("CALL energy.run_aggregations(%s)", (local(2026, 3, 11, 5),))
    for query in ("level=hour&date=2026-10-25", "level=day&date=2026-03-10", "level=week&date=2026-03-10"):
        rows = client.get(f"/api/history?{query}").get_json()["rows"]
        response = client.get(f"/api/history.csv?{query}")
        assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
        table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        assert len(table) == len(rows) > 0
        for line, row in zip(table, rows, strict=True):
            assert sorted(line) == sorted(row)
            for name, value in row.items():
                if value is None:
                    assert line[name] == "", name
                elif isinstance(value, bool):
                    assert line[name] == str(value).lower(), name
                elif isinstance(value, float | int):
                    assert float(line[name]) == value, name
                elif name == "level":
                    assert line[name] == value
                else:
                    assert datetime.fromisoformat(line[name]) == datetime.fromisoformat(value), name


def test_today_so_far(client, db):
    now = datetime.now(UTC)
    midnight = datetime.fromisoformat(db.execute(
        "SELECT date_trunc('day', now(), 'Europe/Brussels')").fetchone()[0].isoformat())
    minutes = int((now - midnight).total_seconds() // 600) * 10
    start = now - timedelta(minutes=minutes)
    for (source, name), rate in COUNTER_RATES.items():
        write(db, metric_id(db, source, name),
              [(start + timedelta(minutes=m), 1000.0 + rate * m / 60) for m in range(0, minutes + 1, 10)])
    db.execute("CALL energy.aggregate_hours(%s)", (now,))
    today = client.get("/api/today").get_json()["today"]
    hours = minutes / 60
    assert today["produced_kwh"] == pytest.approx(2.0 * hours, abs=1e-3)
    assert today["imported_kwh"] == pytest.approx(0.75 * hours, abs=1e-3)
    assert today["gas_m3"] == pytest.approx(0.125 * hours, abs=1e-3)


def test_capacity_tariff(client, db):
    today = db.execute("SELECT (now() AT TIME ZONE 'Europe/Brussels')::date").fetchone()[0]
    index = today.year * 12 + today.month - 1
    month = [datetime((index - back) // 12, (index - back) % 12 + 1, 1) for back in range(14)]  # this month and
    # the thirteen before
    peaks = metric_id(db, "dsmr", "demand_max_month")
    write(db, peaks, [(month[13].replace(day=3, tzinfo=BRUSSELS), 9000.0),  # outside the twelve months
                      (month[11].replace(day=5, hour=18, tzinfo=BRUSSELS), 1800.0),
                      (month[11].replace(day=20, hour=19, tzinfo=BRUSSELS), 4200.0),
                      (month[2].replace(day=2, hour=8, tzinfo=BRUSSELS), 2100.0)])
    db.execute("CALL energy.run_aggregations()")
    body = client.get("/api/capacity").get_json()
    assert [m["month"] for m in body["months"]] == [f"{m:%Y-%m}" for m in reversed(month[:12])]
    assert [m["drops_out_next"] for m in body["months"]] == [True] + [False] * 11
    assert [(m["peak_w"], m["billed_w"]) for m in body["months"] if m["peak_w"]] == [(4200, 4200), (2100, 2500)]
    peak_at = month[11].replace(day=20, hour=19, tzinfo=BRUSSELS)
    assert datetime.fromisoformat(body["months"][0]["peak_at"]) == peak_at
    assert body["months"][-1]["average_12_months_w"] == 3350
    assert len(body["today"]) in (92, 96, 100)


@pytest.mark.parametrize(("query", "message"), [
    ({"level": "decade"}, "level must be one of hour, day, week, month, year, got 'decade'"),
    ({"date": "yesterday"}, "date must be YYYY-MM-DD, got 'yesterday'"),
    ({"date": "2026-02-30"}, "date must be YYYY-MM-DD, got '2026-02-30'"),
    # forms date.fromisoformat also reads, which the message does not promise
    ({"date": "20260101"}, "date must be YYYY-MM-DD, got '20260101'"),
    ({"date": "2026-W01-1"}, "date must be YYYY-MM-DD, got '2026-W01-1'"),
    ({"date": "2026-1-05"}, "date must be YYYY-MM-DD, got '2026-1-05'"),
    ({"date": "\u0662\u0660\u0662\u0666-\u0660\u0661-\u0660\u0665"},  # Arabic-Indic digits
     "date must be YYYY-MM-DD, got '\u0662\u0660\u0662\u0666-\u0660\u0661-\u0660\u0665'"),
    ({"date": "2026-01-05 "}, "date must be YYYY-MM-DD, got '2026-01-05 '"),
    ({"level": "hour", "date": "1850-01-01"}, "date must be between 2000 and 2100, got '1850-01-01'"),
])
def test_bad_parameters_get_400_with_a_message(client, query, message):
    response = client.get("/api/history", query_string={"level": "day", **query})
    assert response.status_code == 400
    assert response.get_json() == {"error": message}


@pytest.mark.parametrize("level", ["hour", "day", "week", "month", "year"])
def test_the_arrows_never_lead_to_a_400(client, level):
    for anchor in ("2000-01-01", "2000-01-31", "2000-03-20", "2050-06-15", "2100-10-10", "2100-12-01", "2100-12-31"):
        body = client.get(f"/api/history?level={level}&date={anchor}").get_json()
        for arrow in ("previous", "next"):
            if body[arrow] is not None:
                assert client.get(f"/api/history?level={level}&date={body[arrow]}").status_code == 200, (anchor, arrow)
    assert client.get(f"/api/history?level={level}&date=2000-01-01").get_json()["previous"] is None
    assert client.get(f"/api/history?level={level}&date=2100-12-31").get_json()["next"] is None
    assert client.get(f"/api/history?level={level}&date=2050-06-15").get_json()["next"] is not None


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


def test_the_first_request_after_the_database_dropped_every_connection_works(client, db):
    assert client.get("/api/live").status_code == 200  # the pool now holds a connection
    db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'energy_web'")
    wait_for(lambda: not db.execute("SELECT 1 FROM pg_stat_activity WHERE usename = 'energy_web'").fetchone(),
             what="the dashboard's connections to end")
    assert client.get("/api/live").status_code == 200
    assert client.get("/api/live").status_code == 200


def test_ten_wrong_passwords_a_minute_then_the_client_waits(db_url):
    clock = [1000.0]
    app = create_app({"DATABASE_URL": with_user(db_url, "energy_web"), "PASSWORD": "s3cret",
                      "CLOCK": lambda: clock[0]})
    client, neighbour = app.test_client(), {"REMOTE_ADDR": "192.0.2.9"}
    for _ in range(20):  # a browser's first request carries no password: not a guess
        assert client.get("/api/live").status_code == 401
    for guess in range(10):
        assert client.get("/api/live", auth=("me", f"guess{guess}")).status_code == 401
        clock[0] += 1
    refused = client.get("/api/live", auth=("me", "s3cret"))  # even the right one: no more guessing for now
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "50"
    assert client.get("/api/live", auth=("me", "s3cret"), environ_base=neighbour).status_code == 200
    clock[0] += 49.5
    assert client.get("/api/live", auth=("me", "s3cret")).headers["Retry-After"] == "1"
    clock[0] += 0.5
    assert client.get("/api/live", auth=("me", "s3cret")).status_code == 200
    # a sliding minute: with the guesses of 1001 to 1009 s, one more now is again 10 within a minute
    assert client.get("/api/live", auth=("me", "guess10")).status_code == 401
    assert client.get("/api/live", auth=("me", "s3cret")).headers["Retry-After"] == "1"


@pytest.fixture
def utc_process(monkeypatch):
    """The test process (and so the app) runs in UTC, as many servers do."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_day_view_opens_on_the_databases_today_around_its_midnight(client, db, utc_process):
    # A zone of the database in which it is now just after local midnight (or just before, early in the UTC
    # day), so that the database's date and the UTC date of this process differ.
    hour = datetime.now(UTC).hour
    east = 24 - hour if hour >= 10 else -(hour + 1)
    zone = f"Etc/GMT{-east:+d}"  # POSIX signs: Etc/GMT-14 is 14 hours east of Greenwich
    db.execute("UPDATE energy.settings SET time_zone = %s", (zone,))
    before = datetime.now(ZoneInfo(zone)).date()
    start = client.get("/api/history?level=hour").get_json()["start"]
    after = datetime.now(ZoneInfo(zone)).date()
    assert start in (before.isoformat(), after.isoformat())
    assert date.today() not in (before, after)  # what the operating system's calendar would have opened on


def test_a_test_configuration_is_all_the_app_reads(db_url, tmp_path, monkeypatch):
    for name in ("WEB_PASSWORD", "WEB_DATABASE_URL"):  # so that undo removes what the .env adds
        monkeypatch.setenv(name, "")
    dotenv = tmp_path / ".env"
    dotenv.write_text("WEB_PASSWORD=from-the-file\nWEB_DATABASE_URL=postgresql://energy_web@127.0.0.1:1/energy\n")
    monkeypatch.setenv("ENV_FILE", str(dotenv))
    monkeypatch.delenv("WEB_PASSWORD")
    monkeypatch.delenv("WEB_DATABASE_URL")

    tested = create_app({"DATABASE_URL": with_user(db_url, "energy_web")}).test_client()
    assert tested.get("/api/live").status_code == 200
    assert "WEB_PASSWORD" not in os.environ  # the file was not even read

    configured = create_app().test_client()  # the same settings do reach an app built without a test configuration
    assert configured.get("/api/live").status_code == 401
    health = configured.get("/healthz").get_json()
    assert (health["status"], health["database"]) == ("degraded", "unavailable")


def test_the_production_server_keeps_a_few_threads_however_many_clients_wait(db_url, tmp_path):
    port = free_port()
    server = start("web", log=tmp_path / "web.log", WEB_PORT=str(port),
                   WEB_DATABASE_URL=with_user(db_url, "energy_web"))
    idle = []
    try:
        wait_for(lambda: "dashboard:" in (tmp_path / "web.log").read_text(), what="the dashboard to start")
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(300)]
        wait_for(lambda: len(os.listdir(f"/proc/{server.pid}/fd")) > 300, what="the server to accept them all")
        status = Path(f"/proc/{server.pid}/status").read_text()
        threads = int(next(line for line in status.splitlines() if line.startswith("Threads:")).split()[1])
        assert threads < 20
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/live", timeout=10) as response:
            assert response.status == 200 and response.headers["Server"] == "brs5-energy"
    finally:
        for connection in idle:
            connection.close()
        assert stop(server, signal.SIGTERM) == 0
    assert "Traceback" not in (tmp_path / "web.log").read_text()
