"""Reading a CSV of day-ahead market prices: a time column and a price column, hourly or quarter-hourly.

The common exports are read as they come: the ENTSO-E Transparency Platform's ("MTU (CET/CEST)" with a range
"01.01.2025 00:00 - 01.01.2025 01:00", or "01/10/2025 00:00:00 - 01/10/2025 00:15:00", "(CET)"/"(CEST)" around the
clock change, "-" where no price is published yet), and plain files with one ISO 8601 timestamp per row (with or
without an offset). A time without an offset is market time, CET/CEST (Europe/Brussels), unless the column says
UTC; the autumn hour that comes twice is summer time the first time. Without a range a price lasts until the next
row's time. Prices are EUR/MWh unless the column says kWh. Every row is checked; the first problem stops the
import with the file and line.
"""

import csv
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from stack.cli import ExpectedError

MARKET_ZONE = ZoneInfo("Europe/Brussels")  # CET/CEST, the time of the European day-ahead market
LENGTHS = (timedelta(minutes=15), timedelta(hours=1))
# EUR/MWh: the market clears between -500 and 4,000; far beyond that a file holds something else.
LOWEST, HIGHEST = Decimal(-1000), Decimal(10000)
NO_PRICE = {"", "-", "n/e", "n/a", "na"}
TIME_COLUMN = re.compile(r"mtu|time|date|datum|tijd|start|from|van|delivery", re.IGNORECASE)
UTC_COLUMN = re.compile(r"\butc\b|\bgmt\b(?![+-])")
PRICE_COLUMN = re.compile(r"price|prijs|prix|preis|eur|€", re.IGNORECASE)
EUROPEAN = re.compile(r"(\d\d)[./-](\d\d)[./-](\d{4})[ T](\d\d):(\d\d)(?::(\d\d))?")
SUFFIX = re.compile(r"\s*\((CET|CEST|UTC)\)$", re.IGNORECASE)
OFFSETS = {"cet": timedelta(hours=1), "cest": timedelta(hours=2), "utc": timedelta(0)}
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class PriceFileError(ExpectedError):
    """A file the importer cannot read as day-ahead prices; the message names the file and line."""


class Price(NamedTuple):
    """One market price over [start, end), in EUR per kWh."""

    start: datetime
    end: datetime
    eur_per_kwh: Decimal


class Row(NamedTuple):
    """One line as read: its start, its end when the file gives one, its price (None: not published)."""

    line: int
    start: datetime
    end: datetime | None
    eur_per_mwh: Decimal | None


class Columns(NamedTuple):
    """Where the time and the price are, and how to read them."""

    time: int
    price: int
    utc: bool
    per_kwh: bool
    area: int | None
    sequence: int | None
    price_name: str


def read_file(path: Path) -> tuple[list[Price], Columns]:
    """The prices of a file (UTF-8, with or without a byte-order mark), checked, in time order."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as lines:
            return read(lines, str(path))
    except UnicodeDecodeError:
        raise PriceFileError(f"{path}: not UTF-8 text: save the export as CSV (UTF-8)") from None
    except OSError as error:
        raise PriceFileError(f"{path}: {error.strerror or error}") from None


def read(lines: Iterable[str], name: str) -> tuple[list[Price], Columns]:
    """The prices of a file's lines; PriceFileError at the first line that is not as expected."""
    lines, header_line = iter(lines), 0
    for header in lines:
        header_line += 1
        if header.strip():
            break
    else:
        raise PriceFileError(f"{name}: the file is empty")
    delimiter = max(",;\t", key=header.count)
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        columns = find_columns(next(csv.reader([header], delimiter=delimiter)))
        rows = [parse_row(row, header_line + reader.line_num, columns) for row in only_one_series(reader, columns)]
        return prices(rows, columns), columns
    except (ValueError, csv.Error) as error:
        line = getattr(error, "line", None) or header_line + reader.line_num
        raise PriceFileError(f"{name}:{line}: {error}") from None


def find_columns(header: list[str]) -> Columns:
    """The time and price columns by name, and the optional area and sequence columns of ENTSO-E's exports."""
    names = [" ".join(cell.split()) for cell in header]
    time = next((i for i, cell in enumerate(names) if TIME_COLUMN.search(cell)), None)
    price = next((i for i, cell in enumerate(names) if i != time and PRICE_COLUMN.search(cell)), None)
    if time is None or price is None:
        raise ValueError(f"no {'time' if time is None else 'price'} column: expected a timestamp and a price in "
                         f"EUR/MWh, the header is {';'.join(names)!r}")
    lowered = [cell.lower() for cell in names]
    return Columns(time, price, utc=bool(UTC_COLUMN.search(lowered[time])),
                   per_kwh=bool(re.search(r"/\s*kwh", lowered[price])),
                   area=lowered.index("area") if "area" in lowered else None,
                   sequence=lowered.index("sequence") if "sequence" in lowered else None, price_name=names[price])


def only_one_series(reader, columns: Columns):
    """The non-blank rows, refusing a file that mixes areas or auction sequences (its times would repeat)."""
    seen: dict[int, str] = {}
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        for column, what in ((columns.area, "areas"), (columns.sequence, "sequences")):
            if column is not None and column < len(row):
                first = seen.setdefault(column, row[column].strip())
                if row[column].strip() != first:
                    raise ValueError(f"the file holds prices of several {what} ({first}, {row[column].strip()}): "
                                     "export one")
        yield row


class RowError(ValueError):
    """A problem found after reading, on a given line."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


def parse_row(row: list[str], line: int, columns: Columns) -> Row:
    """One row's times and price."""
    if len(row) <= max(columns.time, columns.price):
        raise ValueError(f"{len(row)} fields, too few for the time and price columns")
    text = row[columns.time].strip()
    start_text, _, end_text = text.partition(" - ")
    start = parse_time(start_text, columns.utc)
    end = parse_time(end_text, columns.utc) if end_text else None
    return Row(line, start, end, parse_price(row[columns.price], columns.per_kwh))


def parse_time(text: str, utc: bool) -> datetime:
    """A time as the exports write it: aware (UTC) when it says its offset, else naive (resolved later)."""
    text = text.strip()
    offset = None
    if suffix := SUFFIX.search(text):
        offset, text = OFFSETS[suffix[1].lower()], text[:suffix.start()]
    if found := EUROPEAN.fullmatch(text):
        day, month, year, hour, minute, second = (int(part or 0) for part in found.groups())
        try:
            moment = datetime(year, month, day, hour, minute, second)
        except ValueError:
            raise ValueError(f"{text!r} is not a date and time") from None
    else:
        try:
            moment = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            raise ValueError(f"{text!r} is not a date and time (like 2025-10-26T02:00+02:00 or "
                             "26.10.2025 02:00)") from None
    if moment.tzinfo is None and (offset is not None or utc):
        moment = (moment - (offset or timedelta(0))).replace(tzinfo=UTC)
    return moment.astimezone(UTC) if moment.tzinfo else moment


def parse_price(cell: str, per_kwh: bool) -> Decimal | None:
    """The price in EUR/MWh (None when not published), with a decimal point or comma."""
    text = cell.strip().replace(" ", "").replace("\u202f", "")
    if text.lower() in NO_PRICE:
        return None
    if "," in text and "." in text:  # 1.234,56 or 1,234.56: the last mark is the decimal one
        text = text.replace("." if text.rindex(",") > text.rindex(".") else ",", "")
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"price {cell.strip()!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"price {cell.strip()!r} is not a number")
    value *= 1000 if per_kwh else 1
    if not LOWEST <= value <= HIGHEST:
        raise ValueError(f"price {cell.strip()} EUR/{'kWh' if per_kwh else 'MWh'} is not a day-ahead price "
                         f"(from {LOWEST} to {HIGHEST} EUR/MWh)")
    return value


def prices(rows: list[Row], columns: Columns) -> list[Price]:
    """The rows as prices: times resolved, lengths known, no gap, no overlap, each on its own quarter or hour."""
    rows = resolve(rows, columns.utc)
    published = [i for i, row in enumerate(rows) if row.eur_per_mwh is not None]
    if not published:
        return []
    rows = rows[published[0]:published[-1] + 1]  # prices not published yet at either end are no gap
    found: list[Price] = []
    for i, row in enumerate(rows):
        if row.eur_per_mwh is None:
            raise RowError(row.line, f"no price for {shown(row.start)}: a gap in the prices")
        end = row.end or single_end(rows, i, found)
        length = end - row.start
        if (row.start - EPOCH) % length:
            raise RowError(row.line, f"the price from {shown(row.start)} does not start on a whole "
                                     f"{'quarter hour' if length < LENGTHS[1] else 'hour'}")
        if found and row.start != found[-1].end:
            what = "no price" if row.start > found[-1].end else "prices overlap"
            raise RowError(row.line, f"{what} from {shown(min(row.start, found[-1].end))} to "
                                     f"{shown(max(row.start, found[-1].end))}: the rows must follow each other")
        found.append(Price(row.start, end, row.eur_per_mwh / 1000))
    return found


def single_end(rows: list[Row], i: int, found: list[Price]) -> datetime:
    """The end of a price given by its start alone: the next row's start (the last row lasts as long as the one
    before it); a quarter hour, or an hour before any quarter hour (the market went from hours to quarters)."""
    row = rows[i]
    if i + 1 < len(rows):
        length = rows[i + 1].start - row.start
    elif found:
        length = found[-1].end - found[-1].start
    else:
        raise RowError(row.line, "one price alone, without an end: give its time as a range (start - end)")
    if length <= timedelta(0):
        raise RowError(rows[i + 1].line, f"{shown(rows[i + 1].start)} does not come after {shown(row.start)}")
    if length not in LENGTHS or (found and length > found[-1].end - found[-1].start):
        raise RowError(rows[i + 1].line if i + 1 < len(rows) else row.line,
                       f"{shown(row.start + length)} comes {length.total_seconds() / 60:g} minutes after "
                       f"{shown(row.start)}: prices missing (they come every quarter hour or every hour)")
    return row.start + length


def resolve(rows: list[Row], utc: bool) -> list[Row]:
    """Naive market times as UTC: a time the autumn night gives twice is summer time first, winter time second; a
    range's end is its start plus a quarter or an hour, whichever shows the end's time."""
    occurrences: dict[datetime, int] = {}
    resolved = []
    for row in rows:
        start = row.start
        if start.tzinfo is None:
            occurrence = occurrences[start] = occurrences.get(start, -1) + 1
            start = market_time(start, occurrence, row.line)
        end = row.end
        if end is not None and end.tzinfo is None:
            # the end as the clock shows it (02:45 - 02:00 on the autumn night), or in the start's offset (02:00 -
            # 03:00 for the summer-time hour that ends when the clock says 02:00 again)
            local = start.astimezone(MARKET_ZONE)
            end = next((start + length for length in LENGTHS
                        if end in ((local + length).replace(tzinfo=None),
                                   (start + length).astimezone(MARKET_ZONE).replace(tzinfo=None))), None)
            if end is None:
                raise RowError(row.line, f"from {row.start:%Y-%m-%d %H:%M} to {row.end:%Y-%m-%d %H:%M} is not "
                                         "a quarter hour or an hour")
        elif end is not None and end - start not in LENGTHS:
            raise RowError(row.line, f"from {shown(start)} to {shown(end)} is not a quarter hour or an hour")
        resolved.append(Row(row.line, start, end, row.eur_per_mwh))
    return resolved


def market_time(wall: datetime, occurrence: int, line: int) -> datetime:
    """A wall-clock time of the market's zone, the occurrence-th time it is read (0 or 1), in UTC."""
    summer, winter = wall.replace(tzinfo=MARKET_ZONE), wall.replace(tzinfo=MARKET_ZONE, fold=1)
    if summer.utcoffset() < winter.utcoffset():
        raise RowError(line, f"{wall:%Y-%m-%d %H:%M} does not exist in CET/CEST (the clocks skip that hour)")
    times = [summer] if summer.utcoffset() == winter.utcoffset() else [summer, winter]
    if occurrence >= len(times):
        raise RowError(line, f"{wall:%Y-%m-%d %H:%M} again: a time is given more often than the clock shows it")
    return times[occurrence].astimezone(UTC)


def shown(moment: datetime) -> str:
    """A moment as market time with its offset, as a person reads it."""
    return moment.astimezone(MARKET_ZONE).isoformat(sep=" ", timespec="minutes")
