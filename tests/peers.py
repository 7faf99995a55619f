"""Test helpers for the DSMR collector: a bridge that sends fixed bytes, the collector as a process, and telegrams
written by hand."""

import socket
import threading
from pathlib import Path

from ingest.simulators.p1 import seal
from stack.settings import with_user
from tests.procs import start

HEADER = "/FLU5\\253769484_A"


class OneShotServer:
    """A TCP server on loopback that sends fixed bytes to the first client, then keeps the connection open."""

    def __init__(self, payload: bytes):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.payload = payload
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        client, _ = self.sock.accept()
        client.sendall(self.payload)
        self.client = client  # kept open: the collector sees silence, not a close


def collector(port: int, url: str, tmp_path: Path, *extra: str):
    """Start the DSMR collector as a process, logging to tmp_path/collector.log."""
    return start("ingest.dsmr", "--host", "127.0.0.1", "--port", str(port), "--database-url",
                 with_user(url, "energy_ingest"), "--spool-dir", str(tmp_path / "spool"), "--silence-timeout", "3",
                 *extra, log=tmp_path / "collector.log")


def written(*lines: str, header: str = HEADER, version: str | None = "0-0:96.1.4(50217)") -> bytes:
    """A CRC-correct telegram with these lines (after the identification and the version line)."""
    return seal("\r\n".join([header, "", *([version] if version else []), *lines, "!"]))
