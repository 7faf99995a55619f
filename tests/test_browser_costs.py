"""Money on the dashboard in a real headless Chromium: hidden without a contract; with one, the kWh / EUR switch
shows exactly what the API says, today, in the history chart and in its CSV, and this month's projected capacity
tariff; the choice is remembered, and the page goes back to kWh when the contract goes."""

import csv
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.chromium import ARTIFACTS, DESKTOP, PHONE, bars, series, show
from tests.database import metric_id, write
from tests.tariffs import COLUMNS, FIXED, household, write_household

pytest.importorskip("playwright.sync_api")
# the chart's series, in the order of costs.js: paid (stacked), earned, saved, and the total as a line
SERIES = ("import_eur", "gas_eur", "capacity_eur", "fixed_eur", "export_eur", "solar_saving_eur", "total_eur")
NO_FIGURE = "\u2013"  # what the page shows for a missing figure


def euro_gb(value: float | None) -> str:
    """An amount as British English writes it: -€1,234.50."""
    return NO_FIGURE if value is None else f"{'-' if value < 0 else ''}€{abs(value):,.2f}"


def euro_be(text: str) -> float:
    """The amount of a Belgian Dutch text (€ 1.234,50, any kind of space), or fail."""
    match = re.fullmatch(r"€\s?(-?[\d.]+,\d{2})", text.replace("\u00a0", " ").replace("\u202f", " "))
    assert match, text
    return float(match.group(1).replace(".", "").replace(",", "."))


def chart(page) -> dict:
    """The unit, labels and data of every dataset of the history chart."""
    return page.evaluate("() => { const c = Chart.getChart('history-chart'); return { unit: c.options.scales.y.title"
                         ".text, labels: c.data.labels.length, data: c.data.datasets.map((d) => d.data) }; }")


def wait_for_unit(page, unit: str) -> None:
    """Wait until the history chart is drawn in a unit."""
    page.wait_for_function("(unit) => { const c = Chart.getChart('history-chart'); "
                           "return c !== undefined && c.options.scales.y.title.text === unit; }", arg=unit)


def as_chart(history: dict) -> dict:
    """An /api/costs/history answer as the chart must hold it."""
    rows = history["rows"]
    return {"unit": "EUR", "labels": len(rows), "data": [[row[column] for row in rows] for column in SERIES]}


def seed(db) -> None:
    """Forty days of a household up to now, aggregated, and this month's peak."""
    now = datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    write_household(db, household(hour - timedelta(days=40), hour))
    write(db, metric_id(db, "dsmr", "demand_max_month"), [(now - timedelta(minutes=5), 3300.0)])
    db.execute("CALL energy.run_aggregations()")


def test_the_kwh_eur_switch_shows_what_the_api_says(db, dashboard, browser, tmp_path):
    seed(db)
    page = dashboard.open(browser, DESKTOP, "light", "en-GB")
    page.wait_for_function("() => document.getElementById('today-produced_kwh').textContent.endsWith('kWh')")
    assert page.is_hidden("#units") and page.is_hidden("#today-costs") and page.is_hidden("#capacity-cost")

    replace(FIXED, valid_from=date.today() - timedelta(days=60)).insert(db)
    page.reload()
    page.wait_for_selector("#units", state="visible")
    assert page.is_visible("#today-energy") and page.is_hidden("#today-costs")
    page.click("#units button[data-measure='eur']")
    page.wait_for_selector("#today-costs", state="visible")
    assert page.is_hidden("#today-energy") and page.get_attribute("#units button[data-measure='eur']",
                                                                 "aria-pressed") == "true"
    costs = dashboard.api("/api/costs")
    for column in COLUMNS:
        assert page.text_content(f"#today-{column}") == euro_gb(costs["today"][column]), column
    assert page.text_content("#capacity-cost-eur") == euro_gb(costs["capacity"]["capacity_eur"]) != NO_FIGURE

    today = dashboard.api("/api/today")["calendar"]["today"]
    hours = dashboard.api(f"/api/costs/history?level=hour&date={today}")
    wait_for_unit(page, "EUR")
    assert chart(page) == as_chart(hours)
    assert page.is_hidden("#history-gas") and page.is_hidden(".compare")
    assert page.is_disabled("#history-levels button[data-level='year']")

    # the running day's bar is today so far
    show(page, "day", today)
    days = dashboard.api(f"/api/costs/history?level=day&date={today}")
    page.wait_for_function("(n) => Chart.getChart('history-chart').data.labels.length === n", arg=len(days["rows"]))
    assert chart(page) == as_chart(days)
    running = int(today[8:]) - 1
    assert series(page, SERIES.index("total_eur"))[running] == costs["today"]["total_eur"] is not None
    assert days["rows"][running]["complete"] is False

    show(page, "month", today)
    months = dashboard.api(f"/api/costs/history?level=month&date={today}")
    page.wait_for_function("() => Chart.getChart('history-chart').data.labels.length === 12")
    assert chart(page) == as_chart(months)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "desktop-light-en-eur.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#history-csv")
    path = tmp_path / "costs.csv"
    download.value.save_as(path)
    with path.open(newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [{column: float(line[column]) if line[column] else None for column in COLUMNS} for line in table] == [
        {column: row[column] for column in COLUMNS} for row in months["rows"]]

    # back to kWh, remembered across a reload; EUR likewise
    page.click("#units button[data-measure='energy']")
    wait_for_unit(page, "kWh")
    assert page.is_visible("#today-energy") and page.is_hidden("#today-costs") and page.is_visible(".compare")
    assert not page.is_disabled("#history-levels button[data-level='year']")
    page.reload()
    page.wait_for_selector("#units", state="visible")
    assert page.is_visible("#today-energy")
    page.click("#units button[data-measure='eur']")
    page.wait_for_selector("#today-costs", state="visible")
    page.reload()
    page.wait_for_selector("#today-costs", state="visible")
    wait_for_unit(page, "EUR")

    # the contract goes: the next refresh shows kWh again, and no switch
    db.execute("DELETE FROM energy.tariff")
    page.click("#history-levels button[data-level='day']")
    page.wait_for_selector("#units", state="hidden")
    wait_for_unit(page, "kWh")
    assert page.is_visible("#today-energy") and page.is_hidden("#capacity-cost")
    assert dashboard.errors == [] and dashboard.foreign == []


def test_money_on_a_phone_in_dutch_in_dark_mode(db, dashboard, browser):
    seed(db)
    replace(FIXED, valid_from=date.today() - timedelta(days=60)).insert(db)
    page = dashboard.open(browser, PHONE, "dark", "nl-BE")
    page.wait_for_selector("#units", state="visible")
    page.click("#units button[data-measure='eur']")
    page.wait_for_selector("#today-costs", state="visible")
    assert page.text_content("#today-costs dt") == "Kosten afname"
    costs = dashboard.api("/api/costs")
    for column in COLUMNS:
        assert euro_be(page.text_content(f"#today-{column}")) == costs["today"][column], column
    assert euro_be(page.text_content("#capacity-cost-eur")) == costs["capacity"]["capacity_eur"]
    wait_for_unit(page, "EUR")
    assert bars(page) == len(dashboard.api("/api/costs/history?level=hour")["rows"])
    # nothing sticks out of the phone's width
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / "phone-dark-nl-eur.png"), full_page=True)
    assert dashboard.errors == []


def test_the_page_shows_energy_when_the_money_cannot_be_had(db, dashboard, browser):
    seed(db)
    replace(FIXED, valid_from=date.today() - timedelta(days=60)).insert(db)
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/api/costs", lambda route: route.fulfill(status=500, content_type="application/json",
                                                           body='{"error": "broken"}'))
    page.add_init_script("localStorage.setItem('brs5-energy-unit', 'eur')")  # EUR chosen earlier
    page.goto(f"http://127.0.0.1:{dashboard.port}/")
    page.wait_for_function("() => document.getElementById('today-produced_kwh').textContent.endsWith('kWh')")
    wait_for_unit(page, "kWh")
    assert page.is_hidden("#units") and page.is_hidden("#today-costs") and page.is_visible("#today-energy")
    assert bars(page) >= 23 and errors == []
    context.close()
