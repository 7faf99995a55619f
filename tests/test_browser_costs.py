"""Money on the dashboard in a real headless Chromium: hidden without a contract; with one, the kWh / EUR switch shows
exactly what the API says, today and in the history chart, and this month's projected capacity tariff."""

import json
import urllib.request
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from stack.settings import with_user
from tests.database import metric_id, write
from tests.procs import free_port, start, stop, wait_for
from tests.tariffs import household, write_household
from tests.test_browser import ARTIFACTS, CHROMIUM_ARGS
from tests.test_costs import FIXED

sync_api = pytest.importorskip("playwright.sync_api")
COLUMNS = ("import_eur", "gas_eur", "capacity_eur", "fixed_eur", "export_eur", "solar_saving_eur", "total_eur")
TODAY_IDS = {"import_eur": "today-import-eur", "export_eur": "today-export-eur", "gas_eur": "today-gas-eur",
             "capacity_eur": "today-capacity-eur", "fixed_eur": "today-fixed-eur", "total_eur": "today-total-eur",
             "solar_saving_eur": "today-saving-eur"}


NO_FIGURE, MINUS = "\u2013", "\u2212"  # what the page shows for a missing figure, and its minus sign


def euro(value: float | None) -> str:
    """A euro amount as the page writes it."""
    return NO_FIGURE if value is None else f"{MINUS if value < 0 else ''}€{abs(value):.2f}"


def api(port: int, path: str) -> dict:
    """What the dashboard's API answers."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as response:
        return json.loads(response.read())


def cost_chart(page) -> dict:
    """The labels and the data of every dataset of the EUR history chart."""
    return page.evaluate("() => { const c = Chart.getChart('history-cost-chart'); return { labels: c.data.labels, "
                         "data: c.data.datasets.map((d) => d.data) }; }")


def as_chart(history: dict) -> dict:
    """An /api/costs/history answer as the chart should hold it."""
    rows = history["rows"]
    return {"labels": [r["label"] for r in rows], "data": [[r[column] for r in rows] for column in COLUMNS]}


def test_the_kwh_eur_switch_shows_what_the_api_says(db_url, db, tmp_path):
    now = datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    write_household(db, household(hour - timedelta(days=40), hour))
    write(db, metric_id(db, "dsmr", "demand_max_month"), [(now - timedelta(minutes=5), 3300.0)])
    db.execute("CALL energy.run_aggregations()")
    port = free_port()
    server = start("web", log=tmp_path / "web.log", WEB_PORT=str(port),
                   WEB_DATABASE_URL=with_user(db_url, "energy_web"))
    errors = []
    try:
        wait_for(lambda: "dashboard:" in (tmp_path / "web.log").read_text(), what="the dashboard to start")
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            with page.expect_response(lambda r: r.url.endswith("/api/costs")):
                page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_function("() => document.getElementById('today-produced').textContent.endsWith('kWh')")
            assert page.is_hidden("#units") and page.is_hidden("#today-costs") and page.is_hidden("#capacity-cost")

            replace(FIXED, valid_from=date.today() - timedelta(days=60)).insert(db)
            page.reload()
            page.wait_for_selector("#units", state="visible")
            assert page.is_visible("#today-energy") and page.is_hidden("#today-costs")
            page.click("#units button[data-unit='eur']")
            page.wait_for_selector("#today-costs", state="visible")
            assert page.is_hidden("#today-energy") and page.is_hidden("#history-chart")
            page.wait_for_function("() => Chart.getChart('history-cost-chart') !== undefined")
            costs = api(port, "/api/costs")
            for column, element in TODAY_IDS.items():
                assert page.text_content(f"#{element}") == euro(costs["today"][column]), column
            assert page.text_content("#capacity-cost") == euro(costs["capacity"]["capacity_eur"]) != NO_FIGURE
            assert cost_chart(page) == as_chart(api(port, "/api/costs/history?level=hour"))

            page.click("button[data-level='day']")
            days = as_chart(api(port, "/api/costs/history?level=day"))
            assert len(days["labels"]) >= 1
            wait_for(lambda: cost_chart(page) == days, what="the days of this month in EUR")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dashboard-eur.png"), full_page=True)

            page.click("#units button[data-unit='kwh']")
            assert page.is_visible("#today-energy") and page.is_visible("#history-chart")
            assert page.is_hidden("#today-costs") and page.is_hidden("#history-costs")
            page.reload()  # the choice is remembered
            page.wait_for_selector("#units", state="visible")
            assert page.is_visible("#today-energy")
            browser.close()
    finally:
        stop(server)
    assert errors == []
