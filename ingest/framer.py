"""Cut P1 telegrams out of a TCP byte stream in linear time, whatever else the stream carries.

A telegram starts with '/' and an identification line ('/FLU5\\253769484_A', then an empty line), holds no other
'/' or '!', and ends with '!' and four hexadecimal CRC characters. The regular expressions below find such
telegrams in C; every other byte is noise, counted and dropped, and never delays or hides the next telegram.
"""

import re

MAX_BODY = 8192  # a Fluvius telegram is about 1 kB; anything far longer is noise
IDENTIFIER = rb"[\x20\x22-\x2e\x30-\x7e]{0,40}"  # printable, without '!' or '/'
IDENTIFICATION = rb"/[A-Za-z]{3}\d" + IDENTIFIER + rb"\r\n\r\n"  # '/', maker, baud rate digit, id, empty line
TELEGRAM = re.compile(IDENTIFICATION + rb"[^/!]{0,%d}+![0-9A-Fa-f]{4}" % MAX_BODY)
# What may still grow into a telegram when more bytes arrive: a start of the identification, or all of it and
# a body not yet ended (with at most the first CRC characters).
UNFINISHED = re.compile(
    rb"/[A-Za-z]{0,3}|/[A-Za-z]{3}\d" + IDENTIFIER + rb"(?:\r(?:\n\r?)?)?"
    rb"|" + IDENTIFICATION + rb"[^/!]{0,%d}+(?:![0-9A-Fa-f]{0,3})?" % MAX_BODY)
STARTS = re.compile(IDENTIFICATION)


class Framer:
    """Feeds bytes in, gets complete telegrams out; counts the noise bytes and the telegrams left unfinished
    (cut short by the next one, or far too long) that it dropped on the way. Each feed scans the new bytes and
    at most one unfinished telegram kept from before."""

    def __init__(self):
        self.buffer = bytearray()
        self.noise_bytes = 0
        self.unfinished = 0

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; returns the telegrams they complete, in order (CRC not yet checked)."""
        self.buffer += data
        found, position = [], 0
        while match := TELEGRAM.search(self.buffer, position):
            self._drop(position, match.start())
            found.append(match.group())
            position = match.end()
        # An unfinished telegram contains no '/' after its first byte: only the last '/' can start one.
        tail = self.buffer.rfind(b"/", position)
        if tail < 0 or not UNFINISHED.fullmatch(self.buffer, tail):
            tail = len(self.buffer)
        self._drop(position, tail)
        del self.buffer[:tail]
        return found

    def _drop(self, start: int, end: int) -> None:
        """Count the bytes between two telegrams (but line ends) as noise, and the identification lines among them."""
        if end > start:
            line_ends = self.buffer.count(b"\r", start, end) + self.buffer.count(b"\n", start, end)
            self.noise_bytes += end - start - line_ends
            self.unfinished += sum(1 for _ in STARTS.finditer(self.buffer, start, end))
