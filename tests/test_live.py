"""Live data: the database notifies new readings, one listener per server streams them to every page (Server-Sent
Events through the production server), the number of streams is capped, and the running quarter hour is judged
against the month's peak."""

import http.client
import json
import socket
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import sql

from stack.settings import with_user
from tests.database import metric_id, write
from tests.procs import free_port, start, stop, wait_for
from web import live

INSERT = ("INSERT INTO energy.raw_reading (ts, metric_id, value) "
          "SELECT %s, id, %s FROM energy.metric WHERE source = 'dsmr' AND name = %s")


def test_fresh_readings_notify_listeners_and_imported_history_does_not(db_url):
    with psycopg.connect(db_url, autocommit=True) as listener, \
            psycopg.connect(with_user(db_url, "energy_ingest"), autocommit=True) as ingest:
        listener.execute("LISTEN energy_live")
        ingest.execute(INSERT, (datetime.now(UTC) - timedelta(days=3), 100.0, "power_import"))
        assert list(listener.notifies(timeout=0.5)) == []
        ingest.execute(INSERT, (datetime.now(UTC), 100.0, "power_import"))
        assert [n.channel for n in listener.notifies(timeout=5, stop_after=1)] == ["energy_live"]


def events(response: http.client.HTTPResponse):
    """The (event, data) pairs of a Server-Sent Events stream, as they arrive."""
    kind = None
    while line := response.readline():
        text = line.decode().rstrip("\r\n")
        if text.startswith("event: "):
            kind = text[7:]
        elif text.startswith("data: "):
            yield kind, json.loads(text[6:])


def open_stream(port: int) -> http.client.HTTPResponse:
    """GET the live stream."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/api/live/stream")
    return connection.getresponse()


@pytest.fixture
def dashboard(db_url, tmp_path):
    """The production server (waitress) on a free port; yields the port."""
    port = free_port()
    server = start("web", log=tmp_path / "web.log", WEB_PORT=str(port),
                   WEB_DATABASE_URL=with_user(db_url, "energy_web"))
    try:
        wait_for(lambda: "dashboard:" in (tmp_path / "web.log").read_text(), what="the dashboard to start")
        yield port
    finally:
        stop(server)
    assert "Traceback" not in (tmp_path / "web.log").read_text()


def test_a_new_reading_reaches_an_open_stream_at_once(db, dashboard):
    power = metric_id(db, "dsmr", "power_import")
    write(db, power, [(datetime.now(UTC) - timedelta(seconds=1), 500.0)])
    response = open_stream(dashboard)
    assert response.status == 200 and response.getheader("Content-Type").startswith("text/event-stream")
    stream = events(response)
    kind, data = next(stream)
    assert kind == "live" and data["now"]["import_w"] == 500.0
    sent = time.monotonic()
    write(db, power, [(datetime.now(UTC), 2345.0)])
    for _kind, data in stream:
        if data["now"]["import_w"] == 2345.0:
            break
    # a heartbeat republishes every 15 s: arriving well before that, it came with the notification
    assert time.monotonic() - sent < 2.0
    assert data["recent"] and "quarter" in data


def test_streams_are_capped_and_requests_are_still_served(dashboard):
    streams = [open_stream(dashboard) for _ in range(8)]
    try:
        assert [response.status for response in streams] == [200] * 8
        refused = open_stream(dashboard)
        assert refused.status == 503 and refused.getheader("Retry-After") == "60"
        refused.close()
        for _ in range(10):  # the four request threads stay free for the page's other calls
            connection = http.client.HTTPConnection("127.0.0.1", dashboard, timeout=10)
            connection.request("GET", "/api/live")
            assert connection.getresponse().status == 200
            connection.close()
    finally:
        for response in streams:
            response.close()
    # a page that went away gives its stream back (at the next heartbeat at the latest)
    wait_for(lambda: open_stream(dashboard).status == 200, timeout=40, every=2, what="a free stream")


def test_the_hub_says_when_the_database_is_unavailable():
    hub = live.Hub("postgresql://energy_web@127.0.0.1:1/energy", json.dumps, 2)
    assert hub.enter()
    try:
        event = hub.wait(0, 10)
        assert event is not None and event[1:] == ("unavailable", '{"error": "database unavailable"}')
    finally:
        hub.close()
        hub.leave()


def test_a_stream_closed_before_it_started_gives_its_slot_back():
    hub = live.Hub("postgresql://energy_web@127.0.0.1:1/energy", json.dumps, 1)
    hub.thread = object()  # no listener needed here
    assert hub.enter() and not hub.enter()
    live.Stream(hub).close()
    assert hub.enter()


def quarter(db) -> dict:
    """energy.capacity_now as a dict."""
    cursor = db.execute("SELECT * FROM energy.capacity_now")
    return dict(zip([c.name for c in cursor.description], cursor.fetchone(), strict=True))


def feed(db, demand: list[float], import_w: float, peak_w: float | None) -> datetime:
    """The meter's running quarter-hour demand rising over the last seconds, the power now, this month's peak."""
    now = datetime.now(UTC)
    start = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    times = [start + (now - start) * (i + 1) / len(demand) for i in range(len(demand))]  # within the quarter
    write(db, metric_id(db, "dsmr", "demand_avg_quarter"), list(zip(times, demand, strict=True)))
    write(db, metric_id(db, "dsmr", "power_import"), [(now, import_w)])
    if peak_w is not None:
        write(db, metric_id(db, "dsmr", "demand_max_month"), [(start - timedelta(minutes=1), peak_w)])
    return start


@pytest.mark.parametrize(("demand", "import_w", "peak_w", "heading"), [
    ([3500.0, 3600.0, 3700.0], 5000.0, 3100.0, True),  # already past the peak, and rising
    ([1000.0, 1100.0], 1200.0, 3100.0, False),  # whatever the minutes left, below the peak
    ([1000.0, 1500.0], 2400.0, 1800.0, False),  # past the month's peak, but below the 2.5 kW always billed
    ([2600.0, 2700.0], 2800.0, None, True),  # no peak yet this month: the 2.5 kW count
])
def test_the_running_quarter_hour_against_the_months_peak(db, demand, import_w, peak_w, heading):
    start = feed(db, demand, import_w, peak_w)
    row = quarter(db)
    assert row["quarter_start"] == start and row["quarter_end"] == start + timedelta(minutes=15)
    assert row["demand_w"] == demand[-1] and row["import_w"] == import_w
    assert row["billed_peak_w"] == max(peak_w or 0, 2500.0)
    left = float(row["seconds_left"])
    # the quarter's average if the power now holds for the seconds left
    assert float(row["projected_w"]) == pytest.approx((demand[-1] * (900 - left) + import_w * left) / 900, abs=2)
    assert min(demand[-1], import_w) - 1 <= float(row["projected_w"]) <= max(demand[-1], import_w) + 1
    assert row["heading_past_peak"] is heading


def test_a_demand_of_an_earlier_quarter_is_not_this_ones(db):
    now = datetime.now(UTC)
    start = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    write(db, metric_id(db, "dsmr", "demand_avg_quarter"), [(start - timedelta(seconds=1), 9000.0)])
    row = quarter(db)
    assert row["demand_w"] is None and row["projected_w"] is None and row["heading_past_peak"] is False


def alerts(db) -> list[tuple]:
    """energy.alerts as (kind, subject)."""
    return db.execute("SELECT kind, subject FROM energy.alerts ORDER BY kind, subject").fetchall()


def test_alerts_name_the_stale_collector_and_the_late_aggregation(db):
    now = datetime.now(UTC)
    write(db, metric_id(db, "dsmr", "power_import"), [(now - timedelta(seconds=5), 1.0)])
    write(db, metric_id(db, "sun2000", "power_active"), [(now - timedelta(minutes=10), 1.0)])
    write(db, metric_id(db, "fluvius", "energy_import_t1"), [(now - timedelta(days=30), 0.1)])  # history, no collector
    assert alerts(db) == [("stale_source", "sun2000")]
    db.execute("CALL energy.aggregate_hours(%s)", (now - timedelta(hours=5),))
    assert alerts(db) == [("aggregation_late", "hour"), ("stale_source", "sun2000")]
    db.execute("CALL energy.run_aggregations(%s)", (now - timedelta(days=3),))
    db.execute("CALL energy.aggregate_hours(%s)", (now,))
    # days stopped three days ago: weeks and months are behind too, but only because of them
    assert alerts(db) == [("aggregation_late", "day"), ("stale_source", "sun2000")]
    db.execute("CALL energy.run_aggregations(%s)", (now,))
    write(db, metric_id(db, "sun2000", "power_active"), [(now, 1.0)])
    assert alerts(db) == []


def test_nothing_is_wrong_on_an_empty_database(db):
    assert alerts(db) == []
    assert quarter(db)["heading_past_peak"] is False


def test_the_web_role_reads_the_live_views(db_url):
    with psycopg.connect(with_user(db_url, "energy_web"), autocommit=True) as web:
        for view in ("capacity_now", "capacity_months", "demand_today", "alerts", "quarterly", "power_flow"):
            web.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier("energy", view))).fetchall()


def test_a_slow_reader_does_not_hold_the_server(dashboard):
    """A page that stops reading its stream (a phone in a pocket) costs a socket, not the other pages' updates."""
    idle = socket.create_connection(("127.0.0.1", dashboard))
    idle.sendall(b"GET /api/live/stream HTTP/1.1\r\nHost: x\r\n\r\n")  # and never reads
    try:
        response = open_stream(dashboard)
        assert next(events(response))[0] == "live"
    finally:
        idle.close()


def test_the_flows_between_solar_grid_house_and_battery(db):
    now = datetime.now(UTC)
    for source, name, value in (("sun2000", "power_active", 3000.0), ("dsmr", "power_import", 0.0),
                                ("dsmr", "power_export", 1200.0), ("sun2000", "battery_power", -400.0),
                                ("sun2000", "battery_soc", 64.0)):
        write(db, metric_id(db, source, name), [(now, value)])
    row = db.execute("SELECT solar_to_home_w, solar_to_grid_w, grid_to_home_w, consumption_w, battery_w, "
                     "battery_soc_pct FROM energy.power_flow").fetchone()
    # the inverter's 3 kW (the battery's 400 W included) feeds 1.2 kW to the grid and 1.8 kW to the house
    assert row == (1800.0, 1200.0, 0.0, 1800.0, -400.0, 64.0)
    db.execute("DELETE FROM energy.raw_reading WHERE metric_id IN (SELECT id FROM energy.metric "
               "WHERE source = 'sun2000')")
    assert db.execute("SELECT solar_to_home_w, solar_to_grid_w, battery_w FROM energy.power_flow").fetchone() == (
        None, None, None)  # no inverter: no solar flows at all, not zero
