"""python -m ingest.prices: the common day-ahead exports read to the right instants, idempotent, and every bad file
refused with one line naming the file and line, nothing stored."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ingest import prices
from ingest.price_csv import PriceFileError
from stack.settings import ROOT, with_user

# ENTSO-E's older export: the autumn night's hour 02:00-03:00 twice (summer time, then winter time), and "-" for
# hours whose price is not published yet.
ENTSOE_AUTUMN = """\
"MTU (CET/CEST)","Day-ahead Price [EUR/MWh]","Currency","BZN|BE"
"26.10.2025 00:00 - 26.10.2025 01:00","95.12","EUR",""
"26.10.2025 01:00 - 26.10.2025 02:00","90.00","EUR",""
"26.10.2025 02:00 - 26.10.2025 03:00","85.50","EUR",""
"26.10.2025 02:00 - 26.10.2025 03:00","80.25","EUR",""
"26.10.2025 03:00 - 26.10.2025 04:00","-4.38","EUR",""
"26.10.2025 04:00 - 26.10.2025 05:00","-","EUR",""
"""
# Its newer export, quarter hours, the offsets written out on the autumn night.
ENTSOE_QUARTERS = """\
"MTU (CET/CEST)","Area","Sequence","Day-ahead Price (EUR/MWh)"
"26/10/2025 02:30:00 (CEST) - 26/10/2025 02:45:00 (CEST)","BZN|BE","Without Sequence","88.1"
"26/10/2025 02:45:00 (CEST) - 26/10/2025 02:00:00 (CET)","BZN|BE","Without Sequence","85.02"
"26/10/2025 02:00:00 (CET) - 26/10/2025 02:15:00 (CET)","BZN|BE","Without Sequence","80.5"
"""
# A plain file: ISO times with offsets over the spring night, semicolons, decimal commas, a negative price.
ISO_SPRING = """\
timestamp;price (EUR/MWh)
2025-03-30T00:00:00+01:00;50,5
2025-03-30T01:00:00+01:00;49,75
2025-03-30T03:00:00+02:00;-3,20
2025-03-30T04:00:00+02:00;1.204,10
"""


def stored(db) -> list[tuple[datetime, datetime, Decimal]]:
    """The market prices in the database."""
    return db.execute("SELECT period_start, period_end, eur_per_kwh FROM energy.market_price ORDER BY 1").fetchall()


def run(db_url: str, *paths) -> int:
    """python -m ingest.prices in process, as the ingest role."""
    return prices.main([*map(str, paths), "--database-url", with_user(db_url, "energy_ingest")])


def utc(*args) -> datetime:
    """A UTC time."""
    return datetime(*args, tzinfo=UTC)


def test_entsoe_hours_over_the_autumn_night(db, db_url, tmp_path, capsys):
    path = tmp_path / "Day-ahead Prices_202510260000-202510270000.csv"
    path.write_text(ENTSOE_AUTUMN)
    assert run(db_url, path) == 0
    hour = timedelta(hours=1)
    assert stored(db) == [(utc(2025, 10, 25, 22), utc(2025, 10, 25, 22) + hour, Decimal("0.09512")),
                          (utc(2025, 10, 25, 23), utc(2025, 10, 25, 23) + hour, Decimal("0.09")),
                          (utc(2025, 10, 26, 0), utc(2025, 10, 26, 0) + hour, Decimal("0.0855")),
                          (utc(2025, 10, 26, 1), utc(2025, 10, 26, 1) + hour, Decimal("0.08025")),
                          (utc(2025, 10, 26, 2), utc(2025, 10, 26, 2) + hour, Decimal("-0.00438"))]
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{path}: 5 hourly prices from 2025-10-26 00:00+02:00 to 2025-10-26 04:00+01:00 "
                   "(EUR/MWh from column 'Day-ahead Price [EUR/MWh]')", "stored 5 new prices (0 were already stored)"]
    assert run(db_url, path) == 0  # again: nothing changes
    assert capsys.readouterr().out.splitlines()[-1] == "stored 0 new prices (5 were already stored)"
    assert len(stored(db)) == 5


def test_entsoe_quarter_hours_with_their_offsets_and_overlaps_kept_as_stored(db, db_url, tmp_path, capsys):
    path = tmp_path / "quarters.csv"
    path.write_text(ENTSOE_QUARTERS)
    assert run(db_url, path) == 0
    quarter = timedelta(minutes=15)
    assert stored(db) == [(utc(2025, 10, 26, 0, 30), utc(2025, 10, 26, 0, 45), Decimal("0.0881")),
                          (utc(2025, 10, 26, 0, 45), utc(2025, 10, 26, 1), Decimal("0.08502")),
                          (utc(2025, 10, 26, 1), utc(2025, 10, 26, 1) + quarter, Decimal("0.0805"))]
    hours = tmp_path / "hours.csv"
    hours.write_text(ENTSOE_AUTUMN)  # its summer-time 02:00 hour overlaps two stored quarters: kept out
    assert run(db_url, hours) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "stored 3 new prices (2 were already stored)"
    assert [row[0] for row in stored(db)] == [utc(2025, 10, 25, 22), utc(2025, 10, 25, 23), utc(2025, 10, 26, 0, 30),
                                              utc(2025, 10, 26, 0, 45), utc(2025, 10, 26, 1), utc(2025, 10, 26, 2)]


def test_iso_times_decimal_commas_utc_columns_and_prices_per_kwh(db, db_url, tmp_path):
    spring = tmp_path / "spring.csv"
    spring.write_text(ISO_SPRING)
    in_utc = tmp_path / "utc.csv"
    in_utc.write_text("MTU (UTC),Day-ahead Price (EUR/kWh)\n2025-11-04 10:00,0.1234\n2025-11-04 11:00,0.1\n")
    assert run(db_url, spring, in_utc) == 0
    assert [(start, price) for start, _, price in stored(db)] == [
        (utc(2025, 3, 29, 23), Decimal("0.0505")), (utc(2025, 3, 30, 0), Decimal("0.04975")),
        (utc(2025, 3, 30, 1), Decimal("-0.0032")), (utc(2025, 3, 30, 2), Decimal("1.2041")),
        (utc(2025, 11, 4, 10), Decimal("0.1234")), (utc(2025, 11, 4, 11), Decimal("0.1"))]


BAD_FILES = [
    ("time,price\n2025-03-29 10:00,50\n2025-03-29 11:00,51\n2025-03-29 13:00,52\n", 4,
     "2025-03-29 13:00+01:00 comes 120 minutes after 2025-03-29 11:00+01:00: prices missing"),
    ("time,price\n2025-11-04 10:00,50\n2025-11-04 10:15,51\n2025-11-04 10:45,52\n2025-11-04 11:00,52\n", 4,
     "comes 30 minutes after"),
    ("time,price\n2025-11-04 10:00,50\n2025-11-04 10:15,51\n2025-11-04 10:30,51\n2025-11-04 10:45,51\n"
     "2025-11-04 11:00,52\n2025-11-04 12:00,52\n2025-11-04 12:15,52\n", 7, "comes 60 minutes after"),
    ('"MTU (CET/CEST)","Day-ahead Price [EUR/MWh]"\n"04.11.2025 10:00 - 04.11.2025 11:00","50"\n'
     '"04.11.2025 11:00 - 04.11.2025 12:00","-"\n"04.11.2025 12:00 - 04.11.2025 13:00","51"\n', 3,
     "no price for 2025-11-04 11:00+01:00: a gap in the prices"),
    ('"MTU (CET/CEST)","Day-ahead Price [EUR/MWh]"\n"04.11.2025 10:00 - 04.11.2025 11:00","50"\n'
     '"04.11.2025 12:00 - 04.11.2025 13:00","51"\n', 3, "no price from 2025-11-04 11:00+01:00 to 2025-11-04 12:00"),
    ('"MTU (CET/CEST)","Day-ahead Price [EUR/MWh]"\n"04.11.2025 10:00 - 04.11.2025 10:30","50"\n', 2,
     "is not a quarter hour or an hour"),
    ("time;price\n2025-03-30 01:00;50\n2025-03-30 02:30;51\n", 3, "2025-03-30 02:30 does not exist in CET/CEST"),
    ("time;price\n2025-11-04 10:00;50\n2025-11-04 10:00;51\n", 3, "2025-11-04 10:00 again"),
    ("time;price\n2025-11-04 11:00;50\n2025-11-04 10:00;51\n", 3, "does not come after"),
    ("time;price\n2025-11-04 10:20;50\n2025-11-04 10:35;51\n", 2, "does not start on a whole quarter hour"),
    ("time;price\n2025-11-04 10:00;fifty\n", 2, "price 'fifty' is not a number"),
    ("time;price\n2025-11-04 10:00;99999\n2025-11-04 11:00;1\n", 2, "price 99999 EUR/MWh is not a day-ahead price"),
    ("time;price\n2025-13-04 10:00;5\n", 2, "'2025-13-04 10:00' is not a date and time"),
    ("time;price\n2025-11-04 10:00\n", 2, "1 fields, too few for the time and price columns"),
    ("time;price\n2025-11-04 10:00;5\n", 2, "one price alone, without an end"),
    ("when;what\n2025-11-04 10:00;5\n", 1, "no time column"),
    ("Datum;Volume\n04-11-2025 10:00;5\n", 1, "no price column"),
    ('"MTU (CET/CEST)","Area","Sequence","Day-ahead Price (EUR/MWh)"\n'
     '"04/11/2025 10:00:00 - 04/11/2025 11:00:00","BZN|BE","Without Sequence","50"\n'
     '"04/11/2025 10:00:00 - 04/11/2025 11:00:00","BZN|NL","Without Sequence","60"\n', 3,
     "several areas (BZN|BE, BZN|NL): export one"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_FILES)
def test_a_bad_file_is_one_line_with_its_line_and_nothing_is_stored(db, db_url, tmp_path, text, line, message):
    good = tmp_path / "good.csv"
    good.write_text(ISO_SPRING)
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    with pytest.raises(PriceFileError) as error:
        run(db_url, good, bad)
    assert str(error.value).startswith(f"{bad}:{line}: ") and message in str(error.value), str(error.value)
    assert "\n" not in str(error.value)
    assert stored(db) == []


def test_files_that_are_no_text_or_empty(tmp_path, db_url):
    for content, message in ((b"\xff\xfe\x00t\x00i", "not UTF-8 text"), (b"\n\n", "the file is empty")):
        path = tmp_path / "x.csv"
        path.write_bytes(content)
        with pytest.raises(PriceFileError, match=f"^{path}: {message}"):
            run(db_url, path)
    with pytest.raises(PriceFileError, match="No such file or directory"):
        run(db_url, tmp_path / "missing.csv")


def test_the_command_prints_one_line_and_exits_2(db_url, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("time;price\n2025-11-04 10:00;50\n2025-11-04 13:00;51\n")
    result = subprocess.run([sys.executable, "-m", "ingest.prices", str(bad), "--database-url",
                             with_user(db_url, "energy_ingest")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [f"error: {bad}:3: 2025-11-04 13:00+01:00 comes 180 minutes after "
                                          "2025-11-04 10:00+01:00: prices missing (they come every quarter hour "
                                          "or every hour)"]
    good = tmp_path / "good.csv"
    good.write_text(ISO_SPRING)
    unreachable = subprocess.run([sys.executable, "-m", "ingest.prices", str(good), "--database-url",
                                  "postgresql://energy_ingest@127.0.0.1:1/energy"], cwd=ROOT, capture_output=True,
                                 text=True)
    assert unreachable.returncode == 2 and len(unreachable.stderr.splitlines()) == 1
    assert unreachable.stderr.startswith("error: cannot connect to postgresql://energy_ingest@127.0.0.1:1/energy: ")
    assert unreachable.stderr.rstrip().endswith("(nothing imported)")
