"""make run's demo history: 60 plausible days of Mijn Fluvius exports imported on an empty database, never on one
that already has readings or aggregates, never for a real meter."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from stack import demo
from tests.database import stored, values
from tests.readings import BRUSSELS

NOW = datetime(2026, 11, 26, 18, 44, 31, tzinfo=UTC)
END = datetime(2026, 11, 26, 18, 30, tzinfo=UTC)  # the last whole quarter hour before NOW
START = datetime(2026, 9, 27, 18, tzinfo=UTC)  # 60 days before, from the whole hour


@pytest.fixture
def simulated_meter(db_url, monkeypatch):
    """make run's situation: no meter configured, the test's database as DATABASE_URL, the ingest URL derived."""
    for name in ("DSMR_HOST", "INGEST_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", db_url)


def belgian_tariff(local: datetime) -> str:
    """Day (t1) on weekdays from 07:00 to 22:00, night (t2) otherwise."""
    return "t1" if local.weekday() < 5 and 7 <= local.hour < 22 else "t2"


def test_an_empty_database_gets_60_days_of_plausible_history(db_url, db, simulated_meter, capsys):
    demo.seed_history(NOW)
    readings = stored(db, "fluvius")
    production = dict(values(db, "fusionsolar", "energy_yield_hour"))
    out = capsys.readouterr().out.splitlines()
    assert out == ["empty database: importing 60 days of demo history (Mijn Fluvius exports of the simulated "
                   "household)", f"demo history: {len(readings) + len(production):,} readings imported"]
    # the panels: every hour of the 60 days, nothing at night, at most what 5.4 kWp can make in an hour
    assert len(production) == 60 * 24 and min(production) == datetime(2026, 9, 27, 18, tzinfo=UTC)
    assert all(v == 0 for ts, v in production.items() if not 6 <= ts.astimezone(BRUSSELS).hour < 20)
    assert 0 < max(production.values()) <= 5.4
    by_metric = defaultdict(dict)
    for ts, metric, value in readings:
        by_metric[metric][ts] = value

    # every quarter hour from START to END: offtake and injection in the register of its Belgian tariff
    quarters = [START + timedelta(minutes=15 * i) for i in range((END - START) // timedelta(minutes=15))]
    for ts in quarters:
        tariff = belgian_tariff(ts.astimezone(BRUSSELS))
        other = "t2" if tariff == "t1" else "t1"
        assert ts in by_metric[f"energy_import_{tariff}"] and ts in by_metric[f"energy_export_{tariff}"]
        assert ts not in by_metric[f"energy_import_{other}"] and ts not in by_metric[f"energy_export_{other}"]
    electricity = sum(len(by_metric[f"energy_{f}_{t}"]) for f in ("import", "export") for t in ("t1", "t2"))
    assert electricity == 2 * len(quarters)
    autumn_day = [ts for ts in quarters if ts.astimezone(BRUSSELS).date().isoformat() == "2026-10-25"]
    assert len(autumn_day) == 100  # the 25-hour day came through the portal's odd 02:45-02:00 rows

    exported = {**by_metric["energy_export_t1"], **by_metric["energy_export_t2"]}
    imported = {**by_metric["energy_import_t1"], **by_metric["energy_import_t2"]}
    # the sun: nothing exported at night, something every day around noon, less in November than in early October
    assert all(v == 0 for ts, v in exported.items() if not 6 <= ts.astimezone(BRUSSELS).hour < 19)
    noon = defaultdict(float)
    for ts, value in exported.items():
        if 11 <= ts.astimezone(BRUSSELS).hour < 14:
            noon[ts.astimezone(BRUSSELS).date()] += value
    assert len(noon) == 60 and all(v > 0 for v in noon.values())
    early_october = sum(v for day, v in noon.items() if day.month == 10 and day.day <= 7)
    late_november = sum(v for day, v in noon.items() if day.month == 11 and 19 <= day.day <= 25)
    assert late_november < 0.8 * early_october
    # the household: always some offtake at night, a daily total of a few kWh
    assert all(imported[ts] > 0 for ts in imported if ts.astimezone(BRUSSELS).hour in (2, 3))
    daily = defaultdict(float)
    for ts, value in imported.items():
        daily[ts.astimezone(BRUSSELS).date()] += value
    assert all(3 < v < 30 for day, v in daily.items() if START.astimezone(BRUSSELS).date() < day < NOW.date())
    # each month's peak: the largest quarter of October and of November is the planned one on the 12th, 18:00
    for month in (10, 11):
        ts, value = max(((ts, v) for ts, v in imported.items() if ts.astimezone(BRUSSELS).month == month),
                        key=lambda item: item[1])
        assert ts.astimezone(BRUSSELS).day == 12 and ts.astimezone(BRUSSELS).hour == 18
        assert value * 4 > 4.5  # kW over the quarter, well above the household's usual evening

    # gas: every hour in m3 and in kWh, more in the heating season
    hours = [START + timedelta(hours=i) for i in range((END - START) // timedelta(hours=1))]
    assert sorted(by_metric["gas_volume"]) == hours and sorted(by_metric["gas_energy"]) == hours
    ratios = [by_metric["gas_energy"][h] / by_metric["gas_volume"][h] for h in hours]
    assert all(10.5 < r < 12 for r in ratios)  # kWh per m3 of Belgian natural gas
    september = by_metric["gas_volume"][START + timedelta(hours=10)]
    november = by_metric["gas_volume"][hours[-10]]
    assert november > 5 * september


def test_no_history_on_a_database_that_has_readings(db_url, db, simulated_meter, capsys):
    db.execute("INSERT INTO energy.raw_reading SELECT %s, id, 1500 FROM energy.metric "
               "WHERE source = 'dsmr' AND name = 'power_import'", (NOW,))
    demo.seed_history(NOW)
    assert capsys.readouterr().out == ""
    assert stored(db, "fluvius") == []


def test_no_history_on_a_database_that_has_only_aggregates(db_url, db, simulated_meter, capsys):
    db.execute("""
        INSERT INTO energy.agg_month
        SELECT id, '2026-09-30 22:00+00', '2026-10-31 23:00+00', 1, 1, 1, 1, 1, 1, 1, '2026-10-01 00:00+00',
               '2026-10-01 00:00+00', NULL
        FROM energy.metric WHERE source = 'dsmr' AND name = 'power_import'""")
    demo.seed_history(NOW)
    assert capsys.readouterr().out == ""
    assert stored(db, "fluvius") == []


def test_no_history_for_a_real_meter(db_url, db, simulated_meter, monkeypatch, capsys):
    monkeypatch.setenv("DSMR_HOST", "192.168.1.50")
    demo.seed_history(NOW)
    assert capsys.readouterr().out == ""
    assert stored(db, "fluvius") == []


def test_the_history_is_written_through_the_ingest_connection(db_url, db, simulated_meter, monkeypatch, capsys):
    monkeypatch.setenv("INGEST_DATABASE_URL", "postgresql://energy_ingest@127.0.0.1:1/energy")
    demo.seed_history(NOW)
    assert capsys.readouterr().out.splitlines()[-1].startswith("demo history skipped: connection")
    assert stored(db, "fluvius") == []
