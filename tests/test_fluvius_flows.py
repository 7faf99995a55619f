"""Imported history in energy.flows: each day's and month's offtake and injection equal the sum of the CSV volumes of
that local day or month, to the last decimal; where the live meter has data for a period its figure wins, never both.

The expectation is computed here from the rows the test wrote (Decimal sums per local day with zoneinfo), not by the
engine's rules."""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from psycopg import sql

from ingest import fluvius
from stack.settings import with_user
from tests.database import metric_id
from tests.exports import Row, quarters, write
from tests.readings import BRUSSELS, local_midnight

FIRST_DAY, LAST_DAY = date(2026, 10, 1), date(2026, 11, 2)  # October has the 25-hour day of the 25th
NOW = datetime(2026, 11, 4, 10, tzinfo=UTC)  # October and every imported day are complete
LIVE_DAY = date(2026, 10, 10)


def gas_hours(first: datetime, end: datetime) -> list[Row]:
    """Gas rows for every hour, in m3 and in kWh, with made-up volumes."""
    rows, ts, number = [], first, 0
    while ts < end:
        number += 1
        m3 = Decimal(number * 37 % 900) / 1000
        rows += [Row(ts, "gas_volume", m3), Row(ts, "gas_energy", (m3 * Decimal("11.33")).quantize(Decimal("0.001")))]
        ts += timedelta(hours=1)
    return rows


@pytest.fixture
def imported(db_url, tmp_path: Path) -> list[Row]:
    """October and the first days of November imported through the importer, in two overlapping files (Dutch and
    English) and a gas file; returns the rows written."""
    start, end = local_midnight(FIRST_DAY), local_midnight(LAST_DAY + timedelta(days=1))
    electricity = quarters(start, end - timedelta(minutes=15))
    gas = gas_hours(start, end)
    november_first, october_last = local_midnight(date(2026, 11, 1)), local_midnight(date(2026, 10, 31))
    october = write(tmp_path / "oktober.csv", "nl", [r for r in electricity if r.ts < november_first])
    november = write(tmp_path / "november.csv", "en", [r for r in electricity if r.ts >= october_last])
    hourly = write(tmp_path / "gas.csv", "nl", gas, minutes=60)
    fluvius.import_files(with_user(db_url, "energy_ingest"), [october, november, hourly])
    return electricity + gas


def sums(rows: list[Row], metrics: tuple[str, ...]) -> dict[date, Decimal]:
    """The volumes of some metrics added up per local day of their interval's start."""
    totals: dict[date, Decimal] = defaultdict(Decimal)
    for row in rows:
        if row.metric in metrics and row.volume is not None:
            totals[row.ts.astimezone(BRUSSELS).date()] += row.volume
    return dict(totals)


IMPORT, EXPORT = ("energy_import_t1", "energy_import_t2"), ("energy_export_t1", "energy_export_t2")


def flows(db, level: str, column: str) -> dict[date, Decimal]:
    """One column of energy.flows at a level, by local start date, within the imported days."""
    query = sql.SQL("SELECT local_start::date, {} FROM energy.flows WHERE level = %s ORDER BY 1").format(
        sql.Identifier(column))
    return {day: value for day, value in db.execute(query, (level,)) if FIRST_DAY <= day <= LAST_DAY}


def test_days_and_months_of_imported_history_equal_the_csv_volumes(db, imported):
    db.execute("CALL energy.run_aggregations(%s)", (NOW,))
    for column, metrics in (("imported_kwh", IMPORT), ("exported_kwh", EXPORT)):
        expected = sums(imported, metrics)
        assert len(expected) == (LAST_DAY - FIRST_DAY).days + 1
        assert flows(db, "day", column) == expected
        october = sum(v for day, v in expected.items() if day.month == 10)
        assert flows(db, "month", column) == {date(2026, 10, 1): october}
        assert sum(v for day, v in flows(db, "day", column).items() if day.month == 10) == october


def test_gas_of_imported_history_per_day(db, imported):
    db.execute("CALL energy.run_aggregations(%s)", (NOW,))
    assert flows(db, "day", "gas_m3") == sums(imported, ("gas_volume",))


def test_where_the_live_meter_has_data_its_figure_wins(db, imported):
    # The live meter on LIVE_DAY: a reading every quarter hour and one just before midnight; day import rises
    # 0.1 kWh a quarter (96 quarters: 9.6 kWh), the other registers stand still. The CSV says otherwise that day.
    start = local_midnight(LIVE_DAY)
    times = [start + timedelta(minutes=15 * i) for i in range(96)] + [start + timedelta(days=1, seconds=-1)]
    values = {"energy_import_t1": [1000 + Decimal("0.1") * i for i in range(97)],
              "energy_import_t2": [Decimal(2000)] * 97, "energy_export_t1": [Decimal(500)] * 97,
              "energy_export_t2": [Decimal(100)] * 97}
    for name, series in values.items():
        for ts, value in zip(times, series, strict=True):
            db.execute("INSERT INTO energy.raw_reading VALUES (%s, %s, %s)", (ts, metric_id(db, "dsmr", name), value))
    db.execute("CALL energy.run_aggregations(%s)", (NOW,))
    for column, metrics, live in (("imported_kwh", IMPORT, Decimal("9.600")), ("exported_kwh", EXPORT, Decimal(0))):
        expected = sums(imported, metrics)
        assert expected[LIVE_DAY] != live  # the import says something else that day
        expected[LIVE_DAY] = live
        assert flows(db, "day", column) == expected
        october = sum(v for day, v in expected.items() if day.month == 10)
        assert flows(db, "month", column) == {date(2026, 10, 1): october}


def test_the_capacity_tariff_takes_the_peak_quarter_hour_from_history(db, imported):
    db.execute("CALL energy.run_aggregations(%s)", (NOW,))
    october = [r for r in imported
               if r.metric in IMPORT and r.volume is not None and r.ts.astimezone(BRUSSELS).month == 10]
    peak = max(october, key=lambda row: row.volume)
    row = db.execute("SELECT peak_w, peak_at, billed_w, origin FROM energy.capacity_tariff WHERE month = '2026-10'")
    peak_w, peak_at, billed_w, origin = row.fetchone()
    assert (peak_w, origin) == (float(peak.volume * 4000), "history")  # kWh in a quarter hour x 4 = kW
    assert billed_w == max(peak_w, 2500)
    assert peak_at == peak.ts.replace(minute=0)  # the hour it happened in
