"""python -m ingest.fluvius: the Mijn Fluvius CSV exports as the portal writes them, in Dutch and English, DST days,
empty volumes, bad lines, re-imports and overlaps, checked against the raw readings stored (UTC, exact values)."""

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from ingest import fluvius
from stack.settings import ROOT, with_user
from tests.database import stored
from tests.exports import Row, quarters, write
from tests.readings import BRUSSELS

# Exports written for the tests the way the portal writes them (byte-order mark, CRLF, EAN as ="...").
DATA = Path(__file__).parent / "data" / "portal"
AUTUMN_NL = DATA / "Verbruikshistoriek_elektriciteit_541448820012345678_20231029_20231029_kwartiertotalen.csv"
SPRING_EN = DATA / "Consumption_history_electricity_541448820012345678_20240331_20240331_15 minute totals.csv"
# Gas as the Dutch export writes it: kWh before m3, an extra column, the first 02:00 hour ending at 02:00.
GAS_AUTUMN_NL = DATA / "Verbruikshistoriek_gas_541448860018322037_20231029_20231029_uurtotalen.csv"
GAS_SPRING_EN = DATA / "Consumption_history_gas_541448860018322037_20240331_20240331_hourly totals.csv"


def utc(*fields: int) -> datetime:
    """A UTC instant, written out by hand."""
    return datetime(*fields, tzinfo=UTC)


# By hand: CEST is UTC+2 until 03:00 CEST = 02:00 CET, then CET is UTC+1. The first 02:xx is summer time.
AUTUMN_EXPECTED = [
    (utc(2023, 10, 28, 23, 45), "energy_export_t2", 0.0), (utc(2023, 10, 28, 23, 45), "energy_import_t2", 0.284),
    (utc(2023, 10, 29, 0, 0), "energy_export_t2", 0.011), (utc(2023, 10, 29, 0, 0), "energy_import_t2", 0.276),
    (utc(2023, 10, 29, 0, 15), "energy_import_t2", 0.286),
    (utc(2023, 10, 29, 0, 30), "energy_export_t2", 0.015), (utc(2023, 10, 29, 0, 30), "energy_import_t2", 0.269),
    (utc(2023, 10, 29, 0, 45), "energy_export_t2", 0.017), (utc(2023, 10, 29, 0, 45), "energy_import_t2", 0.295),
    (utc(2023, 10, 29, 1, 0), "energy_export_t2", 0.012), (utc(2023, 10, 29, 1, 0), "energy_import_t2", 0.261),
    (utc(2023, 10, 29, 1, 15), "energy_export_t2", 0.014), (utc(2023, 10, 29, 1, 15), "energy_import_t2", 0.268),
    (utc(2023, 10, 29, 1, 30), "energy_export_t2", 0.016), (utc(2023, 10, 29, 1, 30), "energy_import_t2", 0.273),
    (utc(2023, 10, 29, 1, 45), "energy_export_t2", 0.018), (utc(2023, 10, 29, 1, 45), "energy_import_t2", 0.286),
    (utc(2023, 10, 29, 2, 0), "energy_export_t2", 0.019), (utc(2023, 10, 29, 2, 0), "energy_import_t2", 0.283),
]


# By hand: CET (UTC+1) until 02:00 CET = 03:00 CEST (UTC+2).
SPRING_EXPECTED = [
    (utc(2024, 3, 31, 0, 30), "energy_import_t2", 0.150),
    (utc(2024, 3, 31, 0, 45), "energy_export_t2", 0.0), (utc(2024, 3, 31, 0, 45), "energy_import_t2", 0.161),
    (utc(2024, 3, 31, 1, 0), "energy_export_t2", 0.002), (utc(2024, 3, 31, 1, 0), "energy_import_t2", 0.170),
    (utc(2024, 3, 31, 1, 15), "energy_export_t2", 0.003), (utc(2024, 3, 31, 1, 15), "energy_import_t2", 12.345),
]

GAS_AUTUMN_EXPECTED = [
    (utc(2023, 10, 28, 23), "gas_energy", 1.133), (utc(2023, 10, 28, 23), "gas_volume", 0.1),
    (utc(2023, 10, 29, 0), "gas_energy", 2.266), (utc(2023, 10, 29, 0), "gas_volume", 0.2),
    (utc(2023, 10, 29, 1), "gas_energy", 3.399), (utc(2023, 10, 29, 1), "gas_volume", 0.3),
]

GAS_SPRING_EXPECTED = [
    (utc(2024, 3, 30, 23), "gas_energy", 4.125), (utc(2024, 3, 30, 23), "gas_volume", 0.364),
    (utc(2024, 3, 31, 0), "gas_energy", 1.666), (utc(2024, 3, 31, 0), "gas_volume", 0.147),
    (utc(2024, 3, 31, 1), "gas_energy", 0.0), (utc(2024, 3, 31, 1), "gas_volume", 0.0),
]


def text(path: Path) -> str:
    """A test export's text, with LF line ends."""
    return path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")


def portal_file(directory: Path, name: str, text: str, bom: bool = True, crlf: bool = True) -> Path:
    """Write a test export the way the portal delivers it (byte-order mark, CRLF) unless told otherwise."""
    path = directory / name
    data = text.replace("\n", "\r\n") if crlf else text
    path.write_bytes(("\ufeff" if bom else "").encode() + data.encode())
    return path


def run(db_url: str, *paths: Path, capsys=None) -> tuple[int, str, str]:
    """Import files through the ingest role; returns the exit code, stdout and stderr."""
    code = fluvius.main([*map(str, paths), "--database-url", with_user(db_url, "energy_ingest")])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("path", "expected"), [
    (AUTUMN_NL, AUTUMN_EXPECTED), (SPRING_EN, SPRING_EXPECTED),
    (GAS_AUTUMN_NL, GAS_AUTUMN_EXPECTED), (GAS_SPRING_EN, GAS_SPRING_EXPECTED),
], ids=["autumn-nl", "spring-en", "gas-autumn-nl", "gas-spring-en"])
def test_dst_days_as_the_portal_writes_them(db_url, db, capsys, path, expected):
    code, out, _ = run(db_url, path, capsys=capsys)
    assert code == 0
    assert stored(db, "fluvius") == expected
    assert f"stored {len(expected)} new readings" in out


def test_a_file_without_byte_order_mark_and_with_lf_line_ends(db_url, db, tmp_path, capsys):
    path = portal_file(tmp_path, "spring.csv", text(SPRING_EN), bom=False, crlf=False)
    assert run(db_url, path, capsys=capsys)[0] == 0
    assert stored(db, "fluvius") == SPRING_EXPECTED


def test_capitalised_headers_and_columns_in_another_order(db_url, db, tmp_path, capsys):
    content = ("Register;Eenheid;Volume;Van Datum;Van Tijdstip;Tot Datum;Tot Tijdstip\n"
               "Afname Dag;KWH;1,5;02/01/2024;09:00:00;02/01/2024;09:15:00\n")
    assert run(db_url, portal_file(tmp_path, "x.csv", content), capsys=capsys)[0] == 0
    assert stored(db, "fluvius") == [(utc(2024, 1, 2, 8), "energy_import_t1", 1.5)]


@pytest.mark.parametrize(("day", "quarters_in_day"), [(datetime(2025, 10, 26), 100), (datetime(2025, 3, 30), 92),
                                                      (datetime(2025, 6, 11), 96)])
@pytest.mark.parametrize("language", ["nl", "en"])
def test_whole_days_of_quarter_hours(db_url, db, tmp_path, capsys, day, quarters_in_day, language):
    first = day.replace(tzinfo=BRUSSELS).astimezone(UTC)
    last = (day + timedelta(days=1)).replace(tzinfo=BRUSSELS).astimezone(UTC) - timedelta(minutes=15)
    rows = quarters(first, last)
    assert len(rows) == 2 * quarters_in_day  # the test's own rows: the length of the local day
    assert run(db_url, write(tmp_path / "day.csv", language, rows), capsys=capsys)[0] == 0
    assert stored(db, "fluvius") == sorted((r.ts, r.metric, float(r.volume)) for r in rows)


def test_empty_volumes_are_no_reading_and_zero_is_zero(db_url, db, tmp_path, capsys):
    ts = utc(2024, 5, 6, 10)
    rows = [Row(ts, "energy_import_t1", None), Row(ts, "energy_export_t1", Decimal("0.000")),
            Row(ts + timedelta(minutes=15), "energy_import_t1", Decimal("0.001")),
            Row(ts + timedelta(minutes=15), "energy_export_t1", None)]
    for language in ("nl", "en"):
        assert run(db_url, write(tmp_path / f"{language}.csv", language, rows), capsys=capsys)[0] == 0
    assert stored(db, "fluvius") == [(ts, "energy_export_t1", 0.0),
                                     (ts + timedelta(minutes=15), "energy_import_t1", 0.001)]


GOOD = "12-10-2021;{}:00;12-10-2021;{}:00;=\"541448820012345678\";1SAG1;Digitale Meter;Afname Nacht;0,100;kWh;ok"


def good_lines(count: int) -> list[str]:
    """count night quarter hours from 00:00 on 12 October 2021."""
    times = [(datetime(2021, 10, 12) + timedelta(minutes=15 * i)).strftime("%H:%M") for i in range(count + 1)]
    return [GOOD.format(times[i], times[i + 1]) for i in range(count)]


BAD_LINES = {
    "unknown register": ("12-10-2021;10:00:00;12-10-2021;10:15:00;x;m;t;Afname Piek;0,100;kWh;g", "register"),
    "date the wrong way round": ("2021-10-12;10:00:00;2021-10-12;10:15:00;x;m;t;Afname Dag;0,100;kWh;g",
                                 "not a date and time"),
    "day that does not exist": ("31-02-2021;10:00:00;31-02-2021;10:15:00;x;m;t;Afname Dag;0,100;kWh;g",
                                "not a date and time"),
    "thousands separator": ("12-10-2021;10:00:00;12-10-2021;10:15:00;x;m;t;Afname Dag;1.234,5;kWh;g", "not a number"),
    "text volume": ("12-10-2021;10:00:00;12-10-2021;10:15:00;x;m;t;Afname Dag;n/a;kWh;g", "not a number"),
    "negative volume": ("12-10-2021;10:00:00;12-10-2021;10:15:00;x;m;t;Afname Dag;-0,100;kWh;g", "plausible"),
    "implausible volume": ("12-10-2021;10:00:00;12-10-2021;10:15:00;x;m;t;Afname Dag;30,000;kWh;g", "plausible"),
    "half an hour": ("12-10-2021;10:00:00;12-10-2021;10:30:00;x;m;t;Afname Dag;0,100;kWh;g", "is not a quarter hour"),
    "a daily export": ("12-10-2021;00:00:00;13-10-2021;00:00:00;x;m;t;Afname Dag;9,100;kWh;g", "kwartiertotalen"),
    "a time the clocks skip": ("31-03-2024;02:00:00;31-03-2024;02:15:00;x;m;t;Afname Nacht;0,1;kWh;g",
                               "does not exist"),
    "not on a quarter": ("12-10-2021;10:07:00;12-10-2021;10:22:00;x;m;t;Afname Dag;0,100;kWh;g", "not at the start"),
    "a year out of range": ("01-01-0001;00:00:00;01-01-0001;00:15:00;x;m;t;Afname Nacht;0,1;kWh;g", "out of range"),
    "too few fields": ("12-10-2021;10:00:00;12-10-2021", "fields"),
    "unknown unit": ("12-10-2021;10:00:00;12-10-2021;11:00:00;x;m;t;Afname;100;liter;g", "register"),
    "kWh per quarter without day or night": ("12-10-2021;10:00:00;12-10-2021;10:15:00;x;m;t;Afname;0,1;kWh;g",
                                             "is not an hour"),
}


@pytest.mark.parametrize(("bad", "message"), BAD_LINES.values(), ids=BAD_LINES.keys())
def test_a_bad_line_in_the_middle_names_file_and_line_and_nothing_is_imported(db_url, db, tmp_path, capsys, bad,
                                                                               message):
    lines = good_lines(40)
    path = portal_file(tmp_path, "bad.csv", "\n".join([text(AUTUMN_NL).splitlines()[0], *lines[:20], bad,
                                                        *lines[20:]]))
    code, out, err = run(db_url, AUTUMN_NL, path, capsys=capsys)
    assert code == 2
    first, *_ = err.splitlines()
    assert first.startswith(f"error: {path}:22: ")  # header, 20 good lines, then the bad one
    assert message in first
    assert err.splitlines()[-1] == "nothing imported"
    assert out == ""
    assert stored(db, "fluvius") == []


def test_the_same_interval_twice_is_an_error_naming_both_lines(db_url, db, tmp_path, capsys):
    lines = good_lines(10)
    path = portal_file(tmp_path, "twice.csv", "\n".join([text(AUTUMN_NL).splitlines()[0], *lines, lines[3]]))
    code, _, err = run(db_url, path, capsys=capsys)
    assert code == 2
    assert err.splitlines()[0] == f"error: {path}:12: energy_import_t2 from 12-10-2021 00:45 again (first on line 5)"
    assert stored(db, "fluvius") == []


def test_an_autumn_hour_given_winter_time_first_is_refused(db_url, db, tmp_path, capsys):
    lines = text(GAS_AUTUMN_NL).splitlines()
    swapped = "\n".join([*lines[:3], lines[5], lines[6], lines[3], lines[4]])  # 02:00-03:00 before 02:00-02:00
    code, _, err = run(db_url, portal_file(tmp_path, "gas.csv", swapped), capsys=capsys)
    assert code == 2
    assert ":4: Afname from 29-10-2023 02:00:00 to 29-10-2023 03:00:00 is not an hour" in err
    assert stored(db, "fluvius") == []


@pytest.mark.parametrize(("content", "message"), [
    (b"", "gas.csv:0: the file is empty"),
    (b"Datum;Tijd;Waarde\n01-01-2024;00:00;1\n", "gas.csv:1: not a Mijn Fluvius export: no column 'van datum'"),
    ("Van datum;Van tijdstip;Tot datum;Tot tijdstip;Register;Volume;Eenheid\n"
     "12-10-2021;00:00:00;12-10-2021;01:00:00;Afname;0,5;m\xb3\n".encode("latin-1"), "not UTF-8 text"),
])
def test_files_that_are_not_exports(db_url, db, tmp_path, capsys, content, message):
    path = tmp_path / "gas.csv"
    path.write_bytes(content)
    code, _, err = run(db_url, path, capsys=capsys)
    assert code == 2
    assert message in err.splitlines()[0]


def test_a_missing_file_is_one_line_and_nothing_is_imported(db_url, db, tmp_path, capsys):
    code, _, err = run(db_url, AUTUMN_NL, tmp_path / "nope.csv", capsys=capsys)
    assert code == 2
    assert err.splitlines() == [f"error: {tmp_path / 'nope.csv'}: No such file or directory", "nothing imported"]
    assert stored(db, "fluvius") == []


def snapshot(db) -> list[tuple]:
    """Every raw reading, with its storage identity, to prove a re-import touched nothing."""
    return db.execute("SELECT ctid, xmin::text, ts, metric_id, value FROM energy.raw_reading ORDER BY ts, metric_id"
                      ).fetchall()


def test_importing_the_same_file_twice_changes_nothing(db_url, db, tmp_path, capsys):
    rows = quarters(utc(2024, 1, 1), utc(2024, 1, 3, 23, 45))
    path = write(tmp_path / "three-days.csv", "nl", rows)
    code, out, _ = run(db_url, path, capsys=capsys)
    assert (code, out.splitlines()[-1]) == (0, f"stored {len(rows)} new readings (0 were already stored)")
    before = snapshot(db)
    code, out, _ = run(db_url, path, capsys=capsys)
    assert (code, out.splitlines()[-1]) == (0, f"stored 0 new readings ({len(rows)} were already stored)")
    assert snapshot(db) == before


def test_overlapping_files_store_each_interval_once(db_url, db, tmp_path, capsys):
    rows = quarters(utc(2024, 2, 1), utc(2024, 2, 5, 23, 45))
    early_rows = [r for r in rows if r.ts < utc(2024, 2, 4)]
    late_rows = [r for r in rows if r.ts >= utc(2024, 2, 2, 12)]
    early, late = write(tmp_path / "early.csv", "nl", early_rows), write(tmp_path / "late.csv", "en", late_rows)
    assert run(db_url, early, capsys=capsys)[0] == 0
    code, out, _ = run(db_url, late, early, capsys=capsys)
    assert code == 0
    assert stored(db, "fluvius") == sorted((r.ts, r.metric, float(r.volume)) for r in rows)
    new = len(rows) - len(early_rows)
    already = len(late_rows) + len(early_rows) - new
    assert out.splitlines()[-1] == f"stored {new} new readings ({already} were already stored)"


def test_the_command_line_as_a_user_runs_it(db_url, db, tmp_path):
    path = AUTUMN_NL
    command = [sys.executable, "-m", "ingest.fluvius", str(path)]
    env = {"PATH": "/usr/bin:/bin", "INGEST_DATABASE_URL": with_user(db_url, "energy_ingest")}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == [f"{path}: 19 readings from 2023-10-29 to 2023-10-29",
                                        "stored 19 new readings (0 were already stored)"]
    bad = portal_file(tmp_path, "bad.csv", text(AUTUMN_NL).replace("0,276", "0,27,6"))
    done = subprocess.run([*command[:-1], str(bad)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"error: {bad}:4: volume '0,27,6' is not a number", "nothing imported"]
    assert len(stored(db, "fluvius")) == 19


def test_an_unreachable_database_is_one_line():
    done = subprocess.run([sys.executable, "-m", "ingest.fluvius", str(AUTUMN_NL)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "ENV_FILE": os.devnull,
                                                      "INGEST_DATABASE_URL": "postgresql://energy_ingest@127.0.0.1:1/energy"})
    assert (done.returncode, done.stdout, len(done.stderr.splitlines())) == (2, "", 1)
    assert done.stderr.startswith("error: database: ") and done.stderr.endswith(
        "; nothing imported (is the database running? make db-start)\n")
