"""The dashboard in a real headless Chromium: loads cleanly, draws every chart, follows new readings, navigates."""

from datetime import UTC, datetime, timedelta

import pytest

from stack.settings import ROOT, with_user
from tests.database import COUNTER_RATES, metric_id, seed_counters, write
from tests.procs import free_port, start, stop, wait_for

sync_api = pytest.importorskip("playwright.sync_api")
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def seed(db) -> None:
    """History (last month and this week), live power and a capacity peak."""
    now = datetime.now(UTC)
    seed_counters(db, now - timedelta(days=40), 40 * 24 - 2, COUNTER_RATES, step_minutes=30)
    db.execute("CALL energy.run_aggregations()")
    live(db, 1500.0)
    write(db, metric_id(db, "dsmr", "demand_max_month"), [(now - timedelta(days=3), 3100.0)])


def live(db, watts: float) -> None:
    """Readings of the last minute, ending now (microseconds keep two calls from writing the same instants)."""
    now = datetime.now(UTC)
    for source, name, value in (("dsmr", "power_import", watts), ("dsmr", "power_export", 0.0),
                                ("sun2000", "power_active", 800.0), ("sun2000", "rated_power", 4000.0)):
        write(db, metric_id(db, source, name), [(now - timedelta(seconds=s), value) for s in range(0, 60, 5)])


def chart_points(page, canvas: str) -> int:
    """How many data points the chart on a canvas holds."""
    return page.evaluate("(id) => { const c = Chart.getChart(id); return c ? c.data.datasets.reduce("
                         "(n, d) => n + d.data.filter((v) => v != null).length, 0) : 0; }", canvas)


def test_the_dashboard_in_chromium(db_url, db, tmp_path):
    seed(db)
    port = free_port()
    server = start("web", log=tmp_path / "web.log", WEB_PORT=str(port),
                   WEB_DATABASE_URL=with_user(db_url, "energy_web"))
    errors = []
    try:
        wait_for(lambda: "dashboard:" in (tmp_path / "web.log").read_text(), what="the dashboard to start")
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_function("() => document.getElementById('import').textContent === '1.50 kW'")
            assert page.text_content("#solar") == "800 W"
            assert page.text_content("#solar-share") == "20 % of 4.00 kW"
            for canvas in ("recent-chart", "history-chart", "capacity-chart"):
                wait_for(lambda c=canvas: chart_points(page, c) > 0, what=f"{canvas} drawn")
            page.wait_for_function("() => document.getElementById('today-produced').textContent.endsWith('kWh')")

            live(db, 2750.0)
            page.wait_for_function("() => document.getElementById('import').textContent === '2.75 kW'", timeout=10000)

            page.click("button[data-level='day']")
            page.wait_for_function("() => document.getElementById('history-title').textContent.includes(' ')")
            this_month = page.text_content("#history-title")
            page.click("#history-previous")
            page.wait_for_function(f"() => document.getElementById('history-title').textContent !== '{this_month}'")
            wait_for(lambda: chart_points(page, "history-chart") > 0, what="last month's days drawn")

            page.click("button[data-level='hour']")
            page.wait_for_function(
                "() => /^\\d{4}-\\d{2}-\\d{2}$/.test(document.getElementById('history-title').textContent)")
            today = page.text_content("#history-title")
            page.click("#history-previous")
            page.wait_for_function(f"() => document.getElementById('history-title').textContent !== '{today}'")
            wait_for(lambda: chart_points(page, "history-chart") > 0, what="yesterday's hours drawn")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
            browser.close()
    finally:
        stop(server)
    assert errors == []
