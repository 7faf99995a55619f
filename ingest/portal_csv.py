"""Reading a Mijn Fluvius CSV export: every row checked, local times resolved to UTC, errors with file and line.

A row is the amount measured over [from, until) and becomes one reading at the interval's start. On the autumn day
the clocks go back the portal writes the hour 02:00-03:00 twice: the first time it is summer time (fold 0), the
second time winter time (fold 1), told apart by the order of the rows. There it also writes 02:45-02:00 for the
first 02:45 quarter, which is simply true (it ends at 02:00 winter time): the end of every row must be the wall
clock time one interval after its start, so the check that catches wrong files also confirms the fold.
"""

import csv
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

from ingest.portal import COLUMNS, NO_READING, REGISTERS, REPORTS, UNITS, ZONE

DATE = re.compile(r"(\d\d)([-/])(\d\d)\2(\d{4})")
TIME = re.compile(r"(\d\d):(\d\d)(?::(\d\d))?")
VOLUME = re.compile(r"-?\d+(?:[,.]\d+)?")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CACHE = 5000  # spellings of times and intervals kept: the rows of a few days (exports come in time order)


class ExportError(Exception):
    """A file that is not a Mijn Fluvius export the importer understands; the message names file and line."""


class Metric(NamedTuple):
    """What the catalog says about a fluvius metric."""

    name: str
    id: int
    interval: timedelta
    minimum: float  # -inf and inf where the catalog sets no limit
    maximum: float


class Reading(NamedTuple):
    """One amount: measured over the metric's interval from ts (UTC)."""

    ts: datetime
    metric_id: int
    value: float


def parse_file(path: Path, catalog: dict[str, Metric]) -> list[Reading]:
    """Every reading of an export file (UTF-8, with or without a byte-order mark)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as lines:
            return parse(lines, str(path), catalog)
    except OSError as error:
        raise ExportError(f"{path}: {error.strerror or error}") from None


def parse(lines: Iterable[str], name: str, catalog: dict[str, Metric]) -> list[Reading]:
    """Every reading of an export's lines; ExportError at the first line that is not as expected."""
    reader = csv.reader(lines, delimiter=";")
    export = Export(catalog)
    try:
        header = next(reader, None)
        if header is None:
            raise ValueError("the file is empty")
        export.columns(header)
        for row in reader:
            if row and (row[0] or any(field.strip() for field in row)):  # skip blank lines, cheaply
                export.add(row, reader.line_num)
    except UnicodeDecodeError:  # decoded ahead in blocks: the line is unknown
        raise ExportError(f"{name}: not UTF-8 text: use the CSV file as the portal sends it") from None
    except (ValueError, OverflowError, csv.Error) as error:  # OverflowError: a date near year 1 or 9999
        raise ExportError(f"{name}:{reader.line_num}: {error}") from None
    return export.readings


class Export:
    """The state of reading one file: its columns, the intervals seen so far, the readings."""

    def __init__(self, catalog: dict[str, Metric]):
        self.catalog = catalog
        self.fields: itemgetter | None = None  # the columns the importer reads, in COLUMNS order
        self.width = 0
        self.readings: list[Reading] = []
        self.seen: dict[tuple[int, datetime], int] = {}  # (metric, local start) -> its first line
        self.repeated: set[tuple[int, datetime]] = set()  # the same, given a second time (autumn, winter time)
        # The same registers and times recur on every row: each spelling is parsed and checked once.
        self.metrics: dict[tuple[str, str], Metric] = {}
        self.times: dict[tuple[str, str], datetime] = {}
        self.slots: dict[tuple[datetime, timedelta], tuple[tuple[datetime, datetime], ...]] = {}
        self.offsets: dict[date, timedelta | None] = {}

    def columns(self, header: list[str]) -> None:
        """Find the columns by their Dutch or English names."""
        names = {" ".join(cell.split()).lower(): number for number, cell in enumerate(header)}
        missing = [aliases[0] for aliases in COLUMNS.values() if not any(a in names for a in aliases)]
        if missing:
            raise ValueError(f"not a Mijn Fluvius export: no column {', '.join(repr(m) for m in missing)} "
                             f"(the header is {';'.join(header)!r})")
        index = [next(names[a] for a in aliases if a in names) for aliases in COLUMNS.values()]
        self.fields, self.width = itemgetter(*index), max(index) + 1

    def add(self, row: list[str], line: int) -> None:
        """Check one row and keep its reading, if it has one."""
        if len(row) < self.width:
            raise ValueError(f"{len(row)} fields, fewer than the {self.width} the columns need")
        from_date, from_time, until_date, until_time, register, volume, unit = self.fields(row)
        metric = self.metrics.get((register, unit)) or self.metric(register, unit)
        start = self.times.get((from_date, from_time)) or self.local(from_date, from_time)
        until = self.times.get((until_date, until_time)) or self.local(until_date, until_time)
        slots = self.slots.get((start, metric.interval)) or self.slot(start, metric, register)
        ts, end = slots[self.occurrence(metric, start, len(slots), line)]
        if until != end:
            length, report = REPORTS.get(metric.interval, (str(metric.interval), "an export of such intervals"))
            raise ValueError(f"{register} from {from_date} {from_time} to {until_date} {until_time} is not "
                             f"{length} (that would end at {end:%H:%M:%S} Belgian time): the importer reads "
                             f"{report}")
        value = self.value(volume, unit, metric)
        if value is not None:
            self.readings.append(Reading(ts, metric.id, value))

    def metric(self, register: str, unit: str) -> Metric:
        """The catalog metric of a register and unit as the portal spells them."""
        name = REGISTERS.get((" ".join(register.split()).lower(), UNITS.get(unit.strip().lower())))
        if name is None:
            raise ValueError(f"register {register!r} in {unit!r} is not one the importer knows (Afname Dag, "
                             "Afname Nacht, Injectie Dag, Injectie Nacht in kWh; gas Afname in m³ or kWh)")
        self.metrics[register, unit] = self.catalog[name]
        return self.catalog[name]

    def local(self, date_text: str, time_text: str) -> datetime:
        """The Belgian wall-clock time of a date (dd-mm-yyyy or dd/mm/yyyy) and a time (hh:mm:ss)."""
        day, clock = DATE.fullmatch(date_text.strip()), TIME.fullmatch(time_text.strip())
        try:
            if not day or not clock:
                raise ValueError
            found = datetime(int(day[4]), int(day[3]), int(day[1]), int(clock[1]), int(clock[2]), int(clock[3] or 0))
        except ValueError:
            raise ValueError(f"{date_text!r} {time_text!r} is not a date and time as dd-mm-yyyy hh:mm:ss") from None
        if len(self.times) > CACHE:
            self.times.clear()
        self.times[date_text, time_text] = found
        return found

    def slot(self, local: datetime, metric: Metric, register: str) -> tuple[tuple[datetime, datetime], ...]:
        """The UTC start and the wall-clock end of the interval from a wall-clock start: twice when the clocks go
        back over that time (summer time first), never when they skip it."""
        offset = self.offset(local.date())
        if offset is not None:  # most days: one offset all day, plain arithmetic
            found = [((local - offset).replace(tzinfo=UTC), local + metric.interval)]
        else:
            summer, winter = local.replace(tzinfo=ZONE), local.replace(tzinfo=ZONE, fold=1)
            if summer.utcoffset() < winter.utcoffset():
                raise ValueError(f"{local:%d-%m-%Y %H:%M} does not exist in Belgium (the clocks skip that hour)")
            starts = [t.astimezone(UTC) for t in ((summer,) if summer.utcoffset() == winter.utcoffset()
                                                   else (summer, winter))]
            found = [(ts, (ts + metric.interval).astimezone(ZONE).replace(tzinfo=None)) for ts in starts]
        if (found[0][0] - EPOCH) % metric.interval:
            length, _ = REPORTS.get(metric.interval, (str(metric.interval), ""))
            raise ValueError(f"{register} starts at {local:%H:%M:%S}, not at the start of {length}")
        if len(self.slots) > CACHE:
            self.slots.clear()
        self.slots[local, metric.interval] = tuple(found)
        return self.slots[local, metric.interval]

    def offset(self, day: date) -> timedelta | None:
        """The UTC offset of a day that has one from its midnight into the next night (no clock change within an
        hour after the day), None for the days the clocks change."""
        if day not in self.offsets:
            midnight = datetime.combine(day, time(), ZONE).utcoffset()
            next_night = datetime.combine(day + timedelta(days=1), time(1), ZONE).utcoffset()
            self.offsets[day] = midnight if midnight == next_night else None
        return self.offsets[day]

    def occurrence(self, metric: Metric, local: datetime, times: int, line: int) -> int:
        """Which time this row gives the metric's interval from a wall-clock start: 0, or 1 for the second
        (winter time) row of a repeated autumn hour; a row beyond that is a duplicate."""
        key = (metric.id, local)
        first = self.seen.setdefault(key, line)
        if first == line:
            return 0
        if times == 2 and key not in self.repeated:
            self.repeated.add(key)
            return 1
        raise ValueError(f"{metric.name} from {local:%d-%m-%Y %H:%M} again (first on line {first})")

    @staticmethod
    def value(volume: str, unit: str, metric: Metric) -> float | None:
        """The volume as a number, or None for an empty one ("Geen verbruik"); outside the catalog's range is wrong."""
        text = volume.strip()
        if VOLUME.fullmatch(text):
            value = float(text.replace(",", "."))
            if metric.minimum <= value <= metric.maximum:
                return value
            raise ValueError(f"volume {text} {unit} is not a plausible {metric.name} "
                             f"(from {metric.minimum:g} to {metric.maximum:g} {unit})")
        if text.lower() in NO_READING:
            return None
        raise ValueError(f"volume {volume!r} is not a number")
