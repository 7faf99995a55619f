"""The FusionSolar collector over real HTTP against a local server that plays the Northbound API."""

import asyncio
import contextlib
import itertools
import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import pytest

from ingest.fusionsolar import Api, Collector, FusionSolarError
from ingest.writer import Writer
from stack.settings import with_user
from tests.procs import start

SECRET = "s3cret-system-code"
KPI = {"active_power": 3.456, "day_cap": 12.3, "total_cap": 4567.8, "temperature": 41.2, "efficiency": 98.1}


class FakeFusionSolar(ThreadingHTTPServer):
    """Login, stations, devices and KPIs, with scripted failures: expired sessions, 407 bursts, garbage."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.tokens: set[str] = set()
        self.calls: list[tuple[float, str]] = []
        self.script: list[str] = []  # what the next getDevRealKpi calls get instead of an answer
        self.kpi = dict(KPI)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def count(self, endpoint: str) -> int:
        return sum(1 for _, name in self.calls if name == endpoint)


class Handler(BaseHTTPRequestHandler):
    server: FakeFusionSolar

    def log_message(self, *args):
        pass

    def reply(self, body, status: int = 200, headers: dict | None = None, kind: str = "application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        endpoint = self.path.rsplit("/", 1)[-1]
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.calls.append((time.monotonic(), endpoint))
        if endpoint == "login":
            if body != {"userName": "api-user", "systemCode": SECRET}:
                return self.reply({"success": False, "failCode": 20001, "data": None})
            token = f"token-{len(self.server.tokens)}"
            self.server.tokens.add(token)
            return self.reply({"success": True, "failCode": 0, "data": None}, headers={"xsrf-token": token})
        if self.headers.get("XSRF-TOKEN") not in self.server.tokens:
            return self.reply({"success": False, "failCode": 305, "data": None})
        if endpoint == "getStationList":
            station = {"stationCode": "NE=123", "stationName": "Home"}
            return self.reply({"success": True, "failCode": 0, "data": [station]})
        if endpoint == "getDevList":
            return self.reply({"success": True, "failCode": 0, "data": [
                {"id": 1000001, "devTypeId": 38, "devName": "Inverter"}, {"id": 1000002, "devTypeId": 62}]})
        if endpoint == "getDevRealKpi":
            assert body == {"devIds": "1000001", "devTypeId": 38}
            step = self.server.script.pop(0) if self.server.script else "ok"
            if step == "expire":
                self.server.tokens.clear()
                return self.reply({"success": False, "failCode": 305, "data": None})
            if step == "407":
                return self.reply({"success": False, "failCode": 407, "data": None})
            if step == "html":
                return self.reply(b"<html><body>502 Bad Gateway</body></html>", 502, kind="text/html")
            if step == "not-json":
                return self.reply(b"maintenance", kind="text/plain")
            if step == "missing":
                return self.reply({"success": True, "failCode": 0, "data": [{"devId": 1000001}]})
            return self.reply({"success": True, "failCode": 0,
                               "data": [{"devId": 1000001, "dataItemMap": self.server.kpi}]})
        return self.reply({"success": False, "failCode": 404}, 404)


@pytest.fixture
def fake():
    server = FakeFusionSolar()
    yield server
    server.shutdown()


def stored(url: str) -> dict[str, float]:
    """The newest value of each fusionsolar metric."""
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT DISTINCT ON (metric) metric, value FROM energy.readings "
                                 "WHERE source = 'fusionsolar' ORDER BY metric, ts DESC").fetchall())


def count_polls(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM energy.readings WHERE source = 'fusionsolar' "
                            "AND metric = 'power_active'").fetchone()[0]


def test_once_stores_what_the_api_answered(fake, db_url, tmp_path):
    log = tmp_path / "fusionsolar.log"
    process = start("ingest.fusionsolar", "--once", "--url", fake.url, "--user", "api-user", "--database-url",
                    with_user(db_url, "energy_ingest"), "--spool-dir", str(tmp_path / "spool"), log=log,
                    FUSIONSOLAR_SYSTEM_CODE=SECRET)
    assert process.wait(timeout=30) == 0
    assert stored(db_url) == pytest.approx({"power_active": 3456.0, "energy_yield_day": 12.3,
                                            "energy_yield_total": 4567.8, "temperature_internal": 41.2,
                                            "efficiency": 98.1})
    assert SECRET not in log.read_text()


def run_for(collector: Collector, seconds: float) -> None:
    """Let the collector's loop run for a while."""
    async def limited():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(collector.run(), timeout=seconds)
    asyncio.run(limited())


def collector(fake, db_url, tmp_path, interval=0.1) -> Collector:
    api = Api(fake.url, "api-user", SECRET, timeout=5)
    writer = Writer(with_user(db_url, "energy_ingest"), "fusionsolar", tmp_path / "spool",
                    {"power_active", "energy_yield_day", "energy_yield_total", "temperature_internal", "efficiency"})
    ticks = iter(range(10**6))
    return Collector(api, writer, interval, None, clock=lambda: datetime.fromtimestamp(1.8e9 + next(ticks), UTC))


def test_an_expired_session_means_exactly_one_new_login(fake, db_url, tmp_path):
    fake.script = ["ok", "expire"]
    subject = collector(fake, db_url, tmp_path)
    run_for(subject, 1.0)
    assert subject.api.logins == 2 and fake.count("login") == 2
    assert count_polls(db_url) >= 4  # went on polling after the new login


def test_407_slows_the_collector_down(fake, db_url, tmp_path, caplog):
    fake.script = ["407"] * 4
    subject = collector(fake, db_url, tmp_path)
    run_for(subject, 2.0)
    kpi_calls = [t for t, name in fake.calls if name == "getDevRealKpi"]
    gaps = [b - a for a, b in itertools.pairwise(kpi_calls)]
    assert len(kpi_calls) <= 6  # at 0.1 s a tight loop would have made about twenty
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4 and gaps[2] >= 0.8  # waits double
    assert "too many calls (failCode 407)" in caplog.text


@pytest.mark.parametrize("garbage", ["html", "not-json", "missing"])
def test_a_malformed_answer_is_logged_and_skipped(fake, db_url, tmp_path, caplog, garbage):
    fake.script = [garbage]
    subject = collector(fake, db_url, tmp_path, interval=0.05)
    run_for(subject, 1.0)
    assert count_polls(db_url) >= 1  # the next good answer was stored
    messages = {"html": "getDevRealKpi: HTTP 502", "not-json": "answer is not JSON (text/plain",
                "missing": "a device without dataItemMap"}
    assert messages[garbage] in caplog.text


def test_credentials_never_appear_in_logs_or_errors(fake, tmp_path, caplog):
    api = Api(fake.url, "api-user", "wrong-" + SECRET)
    with pytest.raises(FusionSolarError) as raised:
        api.login()
    assert SECRET not in str(raised.value) and "failCode 20001" in str(raised.value)
    assert SECRET not in caplog.text


def test_a_wrong_station_is_a_clear_error(fake, db_url, tmp_path):
    subject = collector(fake, db_url, tmp_path)
    subject.station = "NE=999"
    with pytest.raises(FusionSolarError, match="station NE=999 is not in this account"):
        subject.discover()
