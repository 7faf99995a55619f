"""P1 telegrams: cut them out of a TCP byte stream, check and parse them, turn them into readings."""

from dsmr_parser import telegram_specifications
from dsmr_parser.exceptions import InvalidChecksumError, ParseError
from dsmr_parser.parsers import TelegramParser

from ingest import obis
from ingest.spool import Reading

MAX_TELEGRAM = 8192  # a Fluvius telegram is about 1 kB; anything far longer is noise


class TelegramError(Exception):
    """A telegram that cannot be stored; the message is the reason, logged and counted."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class Framer:
    """Cuts complete telegrams (from '/' to '!' and four CRC characters) out of a byte stream; bytes before
    a '/' are skipped, and a telegram interrupted by the start of the next one is reported as truncated."""

    def __init__(self):
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes | TelegramError]:
        """Add received bytes; returns the telegrams (and errors) they complete, in order."""
        self.buffer += data
        found: list[bytes | TelegramError] = []
        while True:
            start = self.buffer.find(b"/")
            if start < 0:
                self.buffer.clear()
                return found
            del self.buffer[:start]
            restart = self.buffer.find(b"\n/", 1)
            end = self.buffer.find(b"!", 1)
            if restart >= 0 and (end < 0 or restart < end):
                found.append(TelegramError("truncated", "the next telegram started before this one ended"))
                del self.buffer[:restart + 1]
                continue
            if end < 0 or len(self.buffer) < end + 5:
                if len(self.buffer) > MAX_TELEGRAM:
                    found.append(TelegramError("oversized", f"no end after {len(self.buffer)} bytes"))
                    del self.buffer[:1]
                    continue
                return found
            found.append(bytes(self.buffer[:end + 5]))
            del self.buffer[:end + 5]


PARSER = TelegramParser(telegram_specifications.BELGIUM_FLUVIUS, apply_checksum_validation=True)


def parse(frame: bytes):
    """Check the CRC and parse a framed telegram with dsmr-parser's Belgian specification."""
    try:
        text = frame.decode("ascii")
    except UnicodeDecodeError as error:
        raise TelegramError("non-ascii", f"byte {frame[error.start]:#04x} at {error.start}") from None
    try:
        return PARSER.parse(text + "\r\n")
    except InvalidChecksumError as error:
        raise TelegramError("crc", str(error)) from None
    except ParseError as error:
        raise TelegramError("unparsable", str(error)) from None
    except (ValueError, TypeError, AttributeError, IndexError, ArithmeticError) as error:
        raise TelegramError("unparsable", f"{type(error).__name__}: {error}") from None


def value_of(cosem) -> float:
    """A value in the catalog's unit."""
    try:
        return float(cosem.value) * obis.UNIT_SCALE[cosem.unit]
    except KeyError:
        raise TelegramError("unknown-unit", f"{cosem.unit!r}") from None
    except (TypeError, ValueError):
        raise TelegramError("unparsable", f"value {cosem.value!r}") from None


def readings(telegram) -> list[Reading]:
    """The readings of a parsed telegram: at its own time, the month's peak at its time, M-Bus meters at
    their capture time."""
    timestamp = getattr(telegram, "P1_MESSAGE_TIMESTAMP", None)
    if timestamp is None or getattr(timestamp.value, "tzinfo", None) is None:
        raise TelegramError("unparsable", "no telegram timestamp (0-0:1.0.0)")
    ts = timestamp.value
    found = [Reading(ts, metric, value_of(cosem))
             for attribute, metric in obis.AT_TELEGRAM_TIME.items()
             if (cosem := getattr(telegram, attribute, None)) is not None]
    for attribute, metric in obis.AT_OWN_TIME.items():
        if (mbus := getattr(telegram, attribute, None)) is not None:
            found.append(Reading(mbus.datetime, metric, value_of(mbus)))
    for device in getattr(telegram, "MBUS_DEVICES", []):
        kind = getattr(device, "MBUS_DEVICE_TYPE", None)
        meter = getattr(device, "MBUS_METER_READING", None)
        metric = obis.MBUS_DEVICE_TYPES.get(int(kind.value)) if kind is not None else None
        if metric and meter is not None:
            found.append(Reading(meter.datetime, metric, value_of(meter)))
    return found
