"""Mijn Fluvius CSV exports written for the tests, shaped like the portal's: header lines in Dutch and English, and
rows whose local times come from zoneinfo (not from the importer), with the truth each row stands for."""

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from tests.readings import BRUSSELS

EAN = '="541448820012345678"'
HEADER = {
    "nl": "Van datum;Van tijdstip;Tot datum;Tot tijdstip;EAN;Meter;Metertype;Register;Volume;Eenheid;Validatiestatus",
    "en": "From (date);From (time);Until (date);Until (time);EAN code;Meter;Meter type;Register;Volume;Unit;"
          "Validation status;Description",
}
DATE = {"nl": "%d-%m-%Y", "en": "%d/%m/%Y"}
METER = {"nl": "1SAG1100012345;Digitale Meter", "en": "1SAG1100012345;Digital meter"}
STATUS = {"nl": ("Gevalideerd", "Geen verbruik"), "en": ("Read", "No consumption")}
REGISTER = {  # metric -> (Dutch, English) register name
    "energy_import_t1": ("Afname Dag", "Offtake Day"), "energy_import_t2": ("Afname Nacht", "Offtake Night"),
    "energy_export_t1": ("Injectie Dag", "Injection Day"), "energy_export_t2": ("Injectie Nacht", "Injection Night"),
    "gas_volume": ("Afname", "Offtake"), "gas_energy": ("Afname", "Offtake"),
}
UNIT = {"gas_volume": "m³"}


class Row(NamedTuple):
    """What one row of a test file says: the interval's start (UTC), the metric, the volume (None: empty)."""

    ts: datetime
    metric: str
    volume: Decimal | None


def line(language: str, row: Row, minutes: int) -> str:
    """The row as the portal writes it: local wall-clock start and end, decimal comma, empty for no consumption."""
    start, end = (t.astimezone(BRUSSELS) for t in (row.ts, row.ts + timedelta(minutes=minutes)))
    date = DATE[language]
    register = REGISTER[row.metric][language == "en"]
    read, empty = STATUS[language]
    volume = "" if row.volume is None else f"{row.volume:.3f}".replace(".", ",")
    fields = [f"{start:{date}}", f"{start:%H:%M:%S}", f"{end:{date}}", f"{end:%H:%M:%S}", EAN, METER[language],
              register, volume, UNIT.get(row.metric, "kWh"), empty if row.volume is None else read]
    return ";".join(fields + ([""] if language == "en" else []))


def write(path: Path, language: str, rows: list[Row], minutes: int = 15) -> Path:
    """A file as the portal sends it: byte-order mark, CRLF line ends."""
    lines = [HEADER[language], *(line(language, row, minutes) for row in rows)]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig", newline="")
    return path


def quarters(first: datetime, last: datetime, seed: int = 0) -> list[Row]:
    """Offtake and injection rows for every quarter hour from first to last (UTC), in the register the Belgian
    tariff of that quarter uses, with made-up volumes to three decimals."""
    rows, ts, number = [], first, seed
    while ts <= last:
        local = ts.astimezone(BRUSSELS)
        tariff = "t1" if local.weekday() < 5 and 7 <= local.hour < 22 else "t2"
        number += 1
        rows.append(Row(ts, f"energy_import_{tariff}", Decimal((number * 7919) % 1500) / 1000))
        rows.append(Row(ts, f"energy_export_{tariff}", Decimal((number * 104729) % 900) / 1000))
        ts += timedelta(minutes=15)
    return rows
