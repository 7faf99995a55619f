"""The dashboard in a real headless Chromium, at desktop and phone sizes, light and dark, in Dutch and English:
every chart has its periods (DST days, months), the running bar is today so far, the overlay and the CSV are what
the API says, the banner follows the database, and the quarter hour warns before it sets a new peak."""

import calendar
import csv
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from db import migrate
from tests.chromium import ARTIFACTS, DESKTOP, PHONE, Dashboard, bars, series, show
from tests.database import metric_id, seed_counters, write
from tests.pg import start_server, stop_server
from tests.procs import wait_for
from tests.readings import BRUSSELS, local

pytest.importorskip("playwright.sync_api")
LOOKS = {"desktop-light-en": (DESKTOP, "light", "en-GB"), "desktop-dark-nl": (DESKTOP, "dark", "nl-BE"),
         "phone-light-nl": (PHONE, "light", "nl-BE"), "phone-dark-en": (PHONE, "dark", "en-GB")}


def seed(db) -> None:
    """Forty days of meters up to now, live power and this month's peak."""
    now = datetime.now(UTC)
    # up to now itself: today so far has figures even just after local midnight
    seed_counters(db, now - timedelta(days=40), now, step_minutes=30)
    db.execute("CALL energy.run_aggregations()")
    live(db, 1500.0)
    write(db, metric_id(db, "dsmr", "demand_max_month"), [(now - timedelta(seconds=1), 3100.0)])


def live(db, watts: float) -> None:
    """Readings of the last minute, ending now (microseconds keep two calls from writing the same instants)."""
    now = datetime.now(UTC)
    for source, name, value in (("dsmr", "power_import", watts), ("dsmr", "power_export", 0.0),
                                ("sun2000", "power_active", 800.0), ("sun2000", "rated_power", 4000.0)):
        write(db, metric_id(db, source, name), [(now - timedelta(seconds=s), value) for s in range(0, 60, 5)])


def hours_of(day: date) -> int:
    """How long a local day in Brussels is."""
    start = datetime(day.year, day.month, day.day, tzinfo=BRUSSELS)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=BRUSSELS)
    return int((end - start).total_seconds() // 3600)


@pytest.mark.parametrize("look", LOOKS)
def test_every_view_in_every_look(db, dashboard, browser, look):
    viewport, scheme, locale = LOOKS[look]
    seed(db)
    page = dashboard.open(browser, viewport, scheme, locale)
    dutch = locale.startswith("nl")
    page.wait_for_function("(text) => document.getElementById('import').textContent.includes(text)",
                           arg="1,50 kW" if dutch else "1.50 kW")
    assert page.text_content("h1") == ("Energie thuis" if dutch else "Home energy")
    assert page.evaluate("() => document.documentElement.lang") == ("nl" if dutch else "en")
    assert page.text_content("#solar") == "800 W"
    assert page.text_content("#solar-share") == ("20% van 4,00 kW" if dutch else "20% of 4.00 kW")
    page.wait_for_function("() => document.getElementById('today-produced_kwh').textContent.endsWith('kWh')")
    assert ("," in page.text_content("#today-produced_kwh")) is dutch  # decimal comma in Dutch, point in English

    today = date.fromisoformat(dashboard.api("/api/today")["calendar"]["today"])
    expected = {"hour": hours_of(today), "day": calendar.monthrange(today.year, today.month)[1], "week": 12,
                "month": 12, "year": 5}
    ARTIFACTS.mkdir(exist_ok=True)
    for level, count in expected.items():
        show(page, level, today.isoformat())
        wait_for(lambda c=count: bars(page) == c, what=f"{count} periods on the {level} chart")
        wait_for(lambda: bars(page, "capacity-chart") == 12 and bars(page, "quarter-chart") == 4 * hours_of(today),
                 what="twelve months and today's quarter hours")
        page.screenshot(path=str(ARTIFACTS / f"{look}-{level}.png"), full_page=True)
    live(db, 2750.0)  # the stream brings it
    page.wait_for_function("(text) => document.getElementById('import').textContent.includes(text)",
                           arg="2,75 kW" if dutch else "2.75 kW", timeout=10000)
    assert dashboard.errors == [] and dashboard.foreign == []


def test_dst_days_have_23_or_25_bars_and_months_their_days(db, dashboard, browser):
    seed_counters(db, local(2025, 10, 25, 22), local(2025, 10, 27, 2))
    seed_counters(db, local(2026, 3, 28, 22), local(2026, 3, 30, 2), base=2000.0)
    db.execute("CALL energy.run_aggregations('2026-04-01 00:00+00')")
    page = dashboard.open(browser, DESKTOP, "light", "en-GB")
    for day, count, produced in (("2025-10-26", 25, 2.0), ("2026-03-29", 23, 2.0)):
        show(page, "hour", day)
        wait_for(lambda c=count: bars(page) == c, what=f"{count} hours")
        assert series(page, 0) == [produced] * count
        labels = page.evaluate("() => Chart.getChart('history-chart').data.labels")
        assert len(set(labels)) == count  # the repeated 02:00 says its offset
        page.screenshot(path=str(ARTIFACTS / f"dst-{day}.png"), full_page=True)
    for day, count in (("2026-02-10", 28), ("2024-02-10", 29), ("2026-03-10", 31), ("2026-04-10", 30)):
        show(page, "day", day)
        wait_for(lambda c=count: bars(page) == c, what=f"{count} days")
    assert dashboard.errors == []


def test_the_running_bar_is_today_so_far_and_overlay_and_csv_are_the_api(db, dashboard, browser, tmp_path):
    seed(db)
    page = dashboard.open(browser, DESKTOP, "light", "nl-BE")
    today = date.fromisoformat(dashboard.api("/api/today")["calendar"]["today"])
    show(page, "day", today.isoformat())
    page.wait_for_function("() => document.getElementById('today-produced_kwh').textContent.endsWith('kWh')")
    api = dashboard.api(f"/api/history?level=day&date={today.isoformat()}")
    running = today.day - 1
    assert api["rows"][running]["complete"] is False
    assert api["rows"][running]["produced_kwh"] == dashboard.api("/api/today")["today"]["produced_kwh"]
    for index, (column, card) in enumerate((("produced_kwh", "produced_kwh"), ("consumed_kwh", "consumed_kwh"))):
        bar = series(page, 0 if index == 0 else 5)[running]
        assert bar == api["rows"][running][column]
        shown = page.evaluate("(v) => new Intl.NumberFormat('nl-BE', {minimumFractionDigits: 2, "
                              "maximumFractionDigits: 2}).format(v) + ' kWh'", bar)
        assert page.text_content(f"#today-{card}") == shown

    # the overlay: the period before, as the API compares it
    assert series(page, 6) == [row["previous_produced_kwh"] for row in api["rows"]]
    assert series(page, 7) == [row["previous_consumed_kwh"] for row in api["rows"]]
    page.uncheck("#history-compare")
    assert page.evaluate("() => Chart.getChart('history-chart').data.datasets[6].hidden") is True

    with page.expect_download() as download:
        page.click("#history-csv")
    path = tmp_path / "history.csv"
    download.value.save_as(path)
    with path.open(newline="") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == len(api["rows"])
    for line, row in zip(table, api["rows"], strict=True):
        for name in ("produced_kwh", "consumed_kwh", "gas_m3", "previous_produced_kwh", "self_sufficiency_pct"):
            assert (float(line[name]) if line[name] else None) == row[name], name
    assert dashboard.errors == []


def test_the_banner_comes_with_a_stopped_database_and_goes_when_it_returns(browser, tmp_path):
    server, base = start_server()
    served = None
    try:
        url = server.url()
        migrate.migrate(url, schedule=False)
        with psycopg.connect(url, autocommit=True) as db:
            seed(db)
            write(db, metric_id(db, "sun2000", "power_active"), [(datetime.now(UTC) - timedelta(minutes=10), 5.0)])
            db.execute("DELETE FROM energy.raw_reading WHERE ts > now() - interval '5 minutes' "
                       "AND metric_id IN (SELECT id FROM energy.metric WHERE source = 'sun2000')")
        served = Dashboard(url, tmp_path)
        page = served.open(browser, DESKTOP, "light", "en-GB")
        banner = "() => !document.getElementById('banner').hidden && document.getElementById('banner').textContent"
        page.wait_for_function(f"{banner}.includes('The inverter (ingest.sun2000) has sent nothing for')")

        server.terminate()  # the database stops
        page.wait_for_function(f"{banner}.includes('The database cannot be reached')", timeout=30000)
        page.screenshot(path=str(ARTIFACTS / "banner-database.png"), full_page=True)

        server.start()
        page.wait_for_function("() => !document.getElementById('banner').textContent.includes('database')",
                               timeout=30000)
        wait_for(lambda: bars(page) == 24 and series(page, 0)[0] is not None, what="the history, fetched again")
        with psycopg.connect(url, autocommit=True) as db:
            live(db, 1500.0)
        page.wait_for_function("() => document.getElementById('banner').hidden", timeout=30000)
    finally:
        if served:
            served.close()
        stop_server(server, base)


def test_the_quarter_hour_warns_when_it_heads_past_the_months_peak(db, dashboard, browser):
    seed(db)
    demand, power = metric_id(db, "dsmr", "demand_avg_quarter"), metric_id(db, "dsmr", "power_import")
    page = dashboard.open(browser, PHONE, "dark", "nl-BE")
    now = datetime.now(UTC)
    start = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    write(db, demand, [(start + (now - start) / 2, 1200.0), (now, 1300.0)])
    write(db, power, [(now + timedelta(microseconds=1), 1400.0)])
    page.wait_for_function("() => document.getElementById('quarter-projected').textContent.endsWith('kW')")
    assert page.is_hidden("#quarter-warning")  # heading for 1.3 to 1.4 kW

    later = datetime.now(UTC)
    write(db, demand, [(later, 3600.0)])  # a rising 1-0:1.4.0, past the month's 3.1 kW
    write(db, power, [(later, 5200.0)])
    page.wait_for_function("() => !document.getElementById('quarter-warning').hidden", timeout=10000)
    assert "3,10 kW" in page.text_content("#quarter-warning")
    assert page.text_content("#quarter-demand") == "3,60 kW"
    page.screenshot(path=str(ARTIFACTS / "quarter-warning.png"), full_page=True)
    assert dashboard.errors == []
