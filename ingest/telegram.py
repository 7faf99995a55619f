"""P1 telegrams: check a framed telegram against the meter's specification, parse it, turn it into readings.

A reading that cannot be trusted (no valid time, no unit, an empty M-Bus slot) is skipped with its reason; the
rest of the telegram is still stored.
"""

import logging
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

from dsmr_parser import telegram_specifications
from dsmr_parser.exceptions import InvalidChecksumError
from dsmr_parser.parsers import TelegramParser

from ingest import obis
from ingest.spool import Reading

FUTURE_TOLERANCE = timedelta(minutes=5)  # meters are synchronised by the grid operator; the host may drift a little


class TelegramError(Exception):
    """A telegram, or one reading of it, that cannot be stored; the reason is counted, the detail logged."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


class Spec(NamedTuple):
    """What the meters of one specification send."""

    parser: TelegramParser
    header: re.Pattern  # the identification line
    version: re.Pattern  # the version line every telegram carries
    expected: str  # the two, for messages
    earliest: datetime  # no such meter existed before: an older capture time is an empty slot or a reset clock


SPECS = {
    "fluvius": Spec(TelegramParser(telegram_specifications.BELGIUM_FLUVIUS),
                    re.compile(r"/[A-Za-z]{3}5"), re.compile(r"^0-0:96\.1\.4\(5\d{4}\)\r$", re.M),
                    "a DSMR 5 header and the e-MUCS version line 0-0:96.1.4(5xxxx)", datetime(2017, 1, 1, tzinfo=UTC)),
    "dsmr5": Spec(TelegramParser(telegram_specifications.V5),
                  re.compile(r"/[A-Za-z]{3}5"), re.compile(r"^1-3:0\.2\.8\(5\d\)\r$", re.M),
                  "a DSMR 5 header and the version line 1-3:0.2.8(5x)", datetime(2016, 1, 1, tzinfo=UTC)),
}
SIGNATURE = re.compile(r"signature \^?(\S+?)(?:\.\+\?)?\\r\\n")  # in dsmr-parser's complaints
VERSION_LINE = re.compile(r"^(?:0-0:96\.1\.4|1-3:0\.2\.8)\([^)\r]*\)", re.M)


class LineComplaints(logging.Filter):
    """Collects what dsmr-parser logs (with a traceback) about lines it skips, so they are counted instead."""

    def __init__(self):
        super().__init__()
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the message, drop the record."""
        self.messages.append(record.getMessage())
        return False


COMPLAINTS = LineComplaints()
logging.getLogger("dsmr_parser.parsers").addFilter(COMPLAINTS)


def parse(frame: bytes, spec: Spec):
    """Check that a framed telegram is ASCII, of the spec and CRC-correct, and parse it; returns the telegram
    and the lines dsmr-parser skipped (as errors to count)."""
    try:
        text = frame.decode("ascii")
    except UnicodeDecodeError as error:
        raise TelegramError("non-ascii", f"byte {frame[error.start]:#04x} at {error.start}") from None
    header = text.partition("\r")[0]
    if not spec.header.match(header) or not spec.version.search(text):
        version = VERSION_LINE.search(text)
        found = f"header {header!r} and {f'version line {version.group()}' if version else 'no version line'}"
        raise TelegramError("other specification", f"{found}; expected {spec.expected} (see --spec)")
    COMPLAINTS.messages.clear()
    try:
        telegram = spec.parser.parse(text + "\r\n")
    except InvalidChecksumError as error:
        raise TelegramError("crc", str(error)) from None
    except Exception as error:  # dsmr-parser raises whatever a malformed line provokes
        raise TelegramError("unparsable", f"{type(error).__name__}: {error}") from None
    return telegram, [TelegramError(f"unreadable line {obis_of(message)}", "dsmr-parser skipped it")
                      for message in COMPLAINTS.messages]


def obis_of(complaint: str) -> str:
    """'n-n:1.6.0' from dsmr-parser's 'ignore line with signature ^\\d-\\d:1\\.6\\.0.+?\\r\\n, because ...'."""
    signature = SIGNATURE.search(complaint)
    return signature.group(1).replace("\\d", "n").replace("\\", "") if signature else "(unknown)"


def readings(telegram, spec: Spec, now: datetime) -> tuple[list[Reading], list[TelegramError]]:
    """The readings of a parsed telegram (at its own time, the month's peak at its time, M-Bus meters at their
    capture time), and the readings skipped with their reasons."""
    found: list[Reading] = []
    skipped: list[TelegramError] = []

    def take(ts: datetime | None, clock: str, field: obis.Field, cosem) -> None:
        """Add one reading, or note why not; clock names the OBIS code its time comes from."""
        try:
            check_time(ts, clock, spec, now)
            found.append(Reading(ts, field.metric, value_of(cosem, field)))
        except TelegramError as error:
            skipped.append(error)

    stamp = getattr(telegram, "P1_MESSAGE_TIMESTAMP", None)
    for attribute, field in obis.AT_TELEGRAM_TIME.items():
        if (cosem := getattr(telegram, attribute, None)) is not None:
            take(stamp.value if stamp is not None else None, "0-0:1.0.0", field, cosem)
    for attribute, field in obis.AT_OWN_TIME.items():
        if (cosem := getattr(telegram, attribute, None)) is not None:
            take(cosem.datetime, field.obis, field, cosem)
    numbers: dict[str, int] = {}
    for device in sorted(getattr(telegram, "MBUS_DEVICES", []), key=lambda d: d.channel_id):
        try:
            base, unit = mbus_kind(device)
        except TelegramError as error:
            skipped.append(error)
            continue
        numbers[base] = numbers.get(base, 0) + 1
        reading = f"0-{device.channel_id}:24.2"
        field = obis.Field(obis.mbus_metric(base, numbers[base]), unit, reading)
        take(device.MBUS_METER_READING.datetime, reading, field, device.MBUS_METER_READING)
    return found, skipped


def mbus_kind(device) -> tuple[str, str]:
    """The series name and unit of an M-Bus device's first of its kind; an error for an empty slot or a device
    type the project does not know."""
    channel = device.channel_id
    kind = getattr(device, "MBUS_DEVICE_TYPE", None)
    meter = getattr(device, "MBUS_METER_READING", None)
    identifier = getattr(device, "MBUS_EQUIPMENT_IDENTIFIER", None)
    if meter is None or meter.unit is None or (identifier is not None and not identifier.value):
        shown = f"{meter.value} {meter.unit or '(no unit)'} at {meter.datetime or '(no time)'}" if meter else "none"
        raise TelegramError(f"empty M-Bus slot 0-{channel}", f"no identifier, reading or unit; reading: {shown}")
    if kind is None or kind.value not in obis.MBUS_DEVICE_TYPES:
        code = f"{kind.value:03d}" if kind is not None and isinstance(kind.value, int) else "(none)"
        # one reason per channel, whatever the type: a peer cannot grow the counters or the log without bound
        raise TelegramError(f"unknown M-Bus device at 0-{channel}:24.1.0",
                            f"device type {code} on channel {channel}: its readings are not stored")
    return obis.MBUS_DEVICE_TYPES[kind.value]


def check_time(ts: datetime | None, clock: str, spec: Spec, now: datetime) -> None:
    """Refuse a reading time that is a placeholder, older than the meter can be, or ahead of now."""
    if ts is None:
        raise TelegramError(f"no valid time at {clock}", "a placeholder (632525252525S/W) or no timestamp")
    if ts < spec.earliest:
        raise TelegramError(f"time before the meter existed at {clock}", f"{ts:%Y-%m-%d %H:%M:%S} UTC")
    if ts > now + FUTURE_TOLERANCE:
        raise TelegramError(f"time in the future at {clock}", f"{ts:%Y-%m-%d %H:%M:%S} UTC at {now:%H:%M:%S} UTC")


def value_of(cosem, field: obis.Field) -> float:
    """The value in the catalog's unit, converted exactly (02.027 kW is 2027 W, not 2027.0000000000002)."""
    unit, factor = obis.UNITS.get(cosem.unit, (None, None))
    if cosem.unit is None and field.unit:
        raise TelegramError(f"no unit at {field.obis}", f"value {cosem.value!r} without a unit")
    if unit != field.unit:
        raise TelegramError(f"unexpected unit at {field.obis}", f"{cosem.unit!r} where {field.unit} is expected")
    try:
        number = cosem.value if isinstance(cosem.value, Decimal) else Decimal(cosem.value)
        # a huge exponent (1E999999999) would make the exact conversion take forever
        if not number.is_finite() or not -30 < number.adjusted() < 30:
            raise ValueError
        return float(Fraction(number) * factor)
    except (TypeError, ValueError, ArithmeticError):
        raise TelegramError(f"unreadable value at {field.obis}", f"{cosem.value!r}") from None
