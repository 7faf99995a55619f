"""The FusionSolar collector over real HTTP against a local server that plays the Northbound API."""

import asyncio
import contextlib
import itertools
import json
import re
import threading
import time
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ingest.fusionsolar import Collector
from ingest.fusionsolar_history import History
from ingest.northbound import Api, FusionSolarError
from ingest.writer import Writer
from stack.settings import with_user
from tests.database import count, newest, values
from tests.procs import start
from tests.readings import BRUSSELS, local_midnight

SECRET = "s3cret-system-code"
KPI = {"active_power": 3.456, "day_cap": 12.3, "total_cap": 4567.8, "temperature": 41.2, "efficiency": 98.1}
NEW_ACCOUNT_REFUSAL = {"success": False, "failCode": 401, "message": "Invalid access to current interface",
                       "data": None}


def hours_of(day: date) -> list[datetime]:
    """The UTC starts of a Brussels day's hours: 23 in spring's DST night, 25 in autumn's."""
    start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
    return [start + timedelta(hours=n) for n in range((end - start) // timedelta(hours=1))]


def production(day: date) -> dict[datetime, float | None]:
    """What the fake station produced in each hour of a day: 0 at night, null in its last hour (as the API can)."""
    hours = hours_of(day)
    return {ts: None if n == len(hours) - 1 else round(0.25 * max(0, 6 - abs(ts.astimezone(BRUSSELS).hour - 13)), 3)
            for n, ts in enumerate(hours)}


def ms(ts: datetime) -> int:
    """Milliseconds since 1970, as the API counts."""
    return int(ts.timestamp() * 1000)


class FakeFusionSolar(ThreadingHTTPServer):
    """Login, stations, devices, KPIs and history, with scripted failures: expired sessions, 407 bursts, garbage."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.tokens: set[str] = set()
        self.calls: list[tuple[float, str]] = []
        self.bodies: list[tuple[str, dict]] = []
        self.script: list[str] = []  # what the next getDevRealKpi calls get instead of an answer
        self.history_script: list[str] = []  # likewise for the history endpoints
        self.kpi = dict(KPI)
        self.account = "new"  # "old": created before 2023, only getStationList answers; else neither answers
        self.history: dict[date, dict[datetime, float | None]] = {}  # the days the station has data for
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
        self.server.bodies.append((endpoint, body))
        if endpoint == "stations":
            if self.server.account != "new":
                return self.reply({"success": False, "failCode": 401, "data": None})
            plant = {"plantCode": "NE=123", "plantName": "Home", "capacity": 5.4}
            page = {"pageCount": 1, "pageNo": body["pageNo"], "pageSize": 100, "total": 1, "list": [plant]}
            return self.reply({"success": True, "failCode": 0, "data": page})
        if endpoint == "getStationList":
            if self.server.account != "old":
                return self.reply(NEW_ACCOUNT_REFUSAL)
            station = {"stationCode": "NE=123", "stationName": "Home"}
            return self.reply({"success": True, "failCode": 0, "data": [station]})
        if endpoint == "getDevList":
            devices = [{"id": 1000001, "devTypeId": 38, "devName": "Inverter"}, {"id": 1000002, "devTypeId": 62}]
            return self.reply({"success": True, "failCode": 0,
                               "data": devices if body == {"stationCodes": "NE=123"} else []})
        if endpoint in ("getKpiStationDay", "getKpiStationHour"):
            step = self.server.history_script.pop(0) if self.server.history_script else "ok"
            if step == "407":
                return self.reply({"success": False, "failCode": 407, "data": None})
            if step == "html":
                return self.reply(b"<html><body>502 Bad Gateway</body></html>", 502, kind="text/html")
            if body["stationCodes"] != "NE=123":
                return self.reply({"success": False, "failCode": 20010, "message": "plant not found", "data": None})
            day = datetime.fromtimestamp(body["collectTime"] / 1000, BRUSSELS).date()
            return self.reply({"success": True, "failCode": 0, "data": self.kpis(endpoint, day)})
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

    def kpis(self, endpoint: str, day: date) -> list[dict]:
        """A month of day totals, or a day of hours, as getKpiStationDay and getKpiStationHour give them."""
        def entry(ts, kwh):
            return {"collectTime": ms(ts), "stationCode": "NE=123",
                    "dataItemMap": {"inverter_power": kwh, "radiation_intensity": None}}
        history = self.server.history
        if endpoint == "getKpiStationHour":
            return [entry(ts, kwh) for ts, kwh in history.get(day, {}).items()]
        month = [day.replace(day=1) + timedelta(days=n) for n in range(31)]
        return [entry(local_midnight(d), round(sum(v or 0 for v in history[d].values()), 3) if d in history else None)
                for d in month if d.month == day.month]


@pytest.fixture
def fake():
    server = FakeFusionSolar()
    yield server
    server.shutdown()


def test_once_stores_what_the_api_answered(fake, db_url, tmp_path):
    log = tmp_path / "fusionsolar.log"
    process = start("ingest.fusionsolar", "--once", "--url", fake.url, "--user", "api-user", "--database-url",
                    with_user(db_url, "energy_ingest"), "--spool-dir", str(tmp_path / "spool"), log=log,
                    FUSIONSOLAR_SYSTEM_CODE=SECRET)
    assert process.wait(timeout=30) == 0
    assert newest(db_url, "fusionsolar") == pytest.approx({"power_active": 3456.0, "energy_yield_day": 12.3,
                                            "energy_yield_total": 4567.8, "temperature_internal": 41.2,
                                            "efficiency": 98.1})
    assert SECRET not in log.read_text()


def run_for(collector: Collector, seconds: float) -> None:
    """Let the collector's loop run for a while."""
    async def limited():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await collector.run()
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
    names = [name for _, name in fake.calls]
    assert names.count("login") == 2
    again = names.index("login", 1)
    assert names[again - 1:again + 2] == ["getDevRealKpi", "login", "getDevRealKpi"]  # after the expiry, then retried
    assert count(db_url, "fusionsolar", "power_active") >= 4  # went on polling after the new login


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
    assert count(db_url, "fusionsolar", "power_active") >= 1  # the next good answer was stored
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
    with pytest.raises(FusionSolarError, match=r"station NE=999 has no inverter \(is the station code right\?\)"):
        subject.discover()


@pytest.mark.parametrize(("account", "asked"), [("new", ["stations"]), ("old", ["stations", "getStationList"])])
def test_the_station_is_found_on_new_and_old_accounts(fake, db_url, tmp_path, account, asked):
    fake.account = account
    subject = collector(fake, db_url, tmp_path)
    subject.discover()
    assert [name for name, _ in fake.bodies if name in ("stations", "getStationList")] == asked
    assert ("stations", {"pageNo": 1}) in fake.bodies
    assert ("getDevList", {"stationCodes": "NE=123"}) in fake.bodies
    assert subject.inverters == {38: ["1000001"]}


def test_a_configured_station_needs_no_discovery(fake, db_url, tmp_path):
    fake.account = "old"  # discovery would cost two calls here
    process = start("ingest.fusionsolar", "--once", "--url", fake.url, "--user", "api-user", "--station", "NE=123",
                    "--database-url", with_user(db_url, "energy_ingest"), "--spool-dir", str(tmp_path / "spool"),
                    log=tmp_path / "fusionsolar.log", FUSIONSOLAR_SYSTEM_CODE=SECRET)
    assert process.wait(timeout=30) == 0
    assert [name for name, _ in fake.bodies] == ["getDevList", "getDevRealKpi"]
    assert newest(db_url, "fusionsolar")["power_active"] == 3456.0


def test_an_account_that_refuses_both_station_lists_gets_the_reason(fake, db_url, tmp_path):
    fake.account = "neither"  # /stations refused, getStationList answers as it does to new accounts
    subject = collector(fake, db_url, tmp_path)
    with pytest.raises(FusionSolarError, match=re.escape("getStationList: failed (failCode 401: Invalid access")):
        subject.discover()


def hourly(url: str) -> dict[datetime, float]:
    """The stored hourly production."""
    return dict(values(url, "fusionsolar", "energy_yield_hour"))


def expected_hours(fake, days) -> dict[datetime, float]:
    """Every hour with a value the fake station served for those days."""
    return {ts: kwh for day in days for ts, kwh in fake.history.get(day, {}).items() if kwh is not None}


class Sleeps:
    """A sleep that only notes how long it was asked to wait; it can stop the run after some waits."""

    def __init__(self, stop_after: int | None = None):
        self.waits: list[float] = []
        self.stop_after = stop_after

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.stop_after is not None and len(self.waits) > self.stop_after:
            raise Interrupted


class Interrupted(Exception):
    """The import stopped abruptly (Ctrl-C, a power cut)."""


def history(fake, db_url, tmp_path, today: date, sleep) -> History:
    """A history import against the fake, paced 5 s, with a noting sleep."""
    writer = Writer(with_user(db_url, "energy_ingest"), "fusionsolar", tmp_path / "spool", {"energy_yield_hour"})
    return History(Api(fake.url, "api-user", SECRET, timeout=5), writer, "NE=123", BRUSSELS,
                   tmp_path / "progress.json", pause=5.0, sleep=sleep, today=today)


def hour_days(fake) -> list[date]:
    """The local days getKpiStationHour was asked for, in order."""
    return [datetime.fromtimestamp(body["collectTime"] / 1000, BRUSSELS).date()
            for name, body in fake.bodies if name == "getKpiStationHour"]


@pytest.mark.parametrize(("first", "today", "dst_day", "dst_hours"), [
    (date(2025, 10, 24), date(2025, 10, 28), date(2025, 10, 26), 25),  # autumn: 02:00-03:00 twice
    (date(2025, 3, 29), date(2025, 4, 2), date(2025, 3, 30), 23),  # spring, and across a month
])
def test_history_stores_every_hour_of_every_day_with_data(fake, db_url, tmp_path, first, today, dst_day, dst_hours):
    days = [first + timedelta(days=n) for n in range((today - first).days)]
    fake.history = {day: production(day) for day in days if day != first}  # the first day: no data
    asyncio.run(history(fake, db_url, tmp_path, today, Sleeps()).run(first))
    assert hourly(db_url) == expected_hours(fake, days)
    assert len(hours_of(dst_day)) == dst_hours
    assert len([ts for ts in hourly(db_url) if ts.astimezone(BRUSSELS).date() == dst_day]) == dst_hours - 1
    assert hour_days(fake) == sorted(fake.history, reverse=True)  # newest first, the day without data skipped
    assert fake.count("getKpiStationDay") == len({(d.year, d.month) for d in days})


def test_the_two_autumn_hours_at_two_are_two_readings(fake, db_url, tmp_path):
    day = date(2025, 10, 26)
    fake.history = {day: production(day)}
    asyncio.run(history(fake, db_url, tmp_path, day + timedelta(days=1), Sleeps()).run(day))
    stored = hourly(db_url)
    assert datetime(2025, 10, 26, 0, tzinfo=UTC) in stored and datetime(2025, 10, 26, 1, tzinfo=UTC) in stored
    assert {ts.astimezone(BRUSSELS).hour for ts in stored if ts.hour in (0, 1) and ts.day == 26} == {2}


def test_history_waits_when_told_too_many_calls_and_resumes_after_an_interruption(fake, db_url, tmp_path, caplog):
    first, today = date(2025, 10, 20), date(2025, 10, 28)
    days = [first + timedelta(days=n) for n in range(8)]
    fake.history = {day: production(day) for day in days}
    fake.history_script = ["ok", "407", "407", "html"]  # the day totals, then the first day three times refused
    sleeps = Sleeps(stop_after=8)
    with pytest.raises(Interrupted):  # the import lets go of its spool as it stops, so the resumed one can take it
        asyncio.run(history(fake, db_url, tmp_path, today, sleeps).run(first))
    # pause, day totals; pause, 407, wait 60; pause, 407, wait 120; pause, 502, wait 240; pause, the 27th stored;
    # stopped in the pause before the 26th
    assert sleeps.waits == [5.0, 5.0, 60.0, 5.0, 120.0, 5.0, 240.0, 5.0, 5.0]
    assert "getKpiStationHour: too many calls (failCode 407) (2025-10-27): trying again in 60 s" in caplog.text
    assert "getKpiStationHour: HTTP 502 (2025-10-27): trying again in 240 s" in caplog.text
    done = json.loads((tmp_path / "progress.json").read_text())["NE=123"]
    assert done == ["2025-10-27"]
    asyncio.run(history(fake, db_url, tmp_path, today, Sleeps()).run(first))
    assert hourly(db_url) == expected_hours(fake, days)
    fetched = hour_days(fake)
    assert sorted(set(fetched)) == days and len(fetched) == len(days) + 3  # no day twice, but the refused one
    before = len(fake.bodies)
    asyncio.run(history(fake, db_url, tmp_path, today, Sleeps()).run(first))
    assert len(fake.bodies) == before  # nothing left to ask


def test_history_from_the_command_line(fake, db_url, tmp_path):
    first = date(2025, 10, 25)
    fake.history = {day: production(day) for day in (first, first + timedelta(days=1))}
    log = tmp_path / "history.log"
    command = ("ingest.fusionsolar", "--history", first.isoformat(), "--history-pause", "0", "--url", fake.url,
               "--user", "api-user", "--database-url", with_user(db_url, "energy_ingest"), "--spool-dir",
               str(tmp_path / "spool"))
    assert start(*command, log=log, FUSIONSOLAR_SYSTEM_CODE=SECRET).wait(timeout=60) == 0
    assert hourly(db_url) == expected_hours(fake, fake.history)
    assert sorted(hour_days(fake)) == sorted(fake.history)  # up to yesterday, only the days with data
    assert "2025-10-26: 24 hours" in log.read_text() and SECRET not in log.read_text()
    assert (tmp_path / "spool" / "fusionsolar-history" / "progress.json").exists()
    fake.bodies.clear()
    assert start(*command, log=log, FUSIONSOLAR_SYSTEM_CODE=SECRET).wait(timeout=60) == 0
    assert [name for name, _ in fake.bodies] == ["stations"]  # every day done: nothing fetched again


def test_history_of_a_station_the_account_does_not_have_stops_with_the_reason(fake, db_url, tmp_path):
    log = tmp_path / "history.log"
    process = start("ingest.fusionsolar", "--history", "2025-10-25", "--history-pause", "0", "--station", "NE=999",
                    "--url", fake.url, "--user", "api-user", "--database-url", with_user(db_url, "energy_ingest"),
                    "--spool-dir", str(tmp_path / "spool"), log=log, FUSIONSOLAR_SYSTEM_CODE=SECRET)
    assert process.wait(timeout=30) == 1
    assert "ERROR ingest.fusionsolar: getKpiStationDay: failed (failCode 20010: plant not found)" in log.read_text()
    assert "Traceback" not in log.read_text()


@pytest.mark.parametrize(("argument", "message"), [
    ("2025-13-01", "'2025-13-01' is not a date (YYYY-MM-DD)"),
    ("2999-01-01", "--history: give a day before today"),
])
def test_a_bad_history_date_is_one_clear_line(tmp_path, argument, message):
    log = tmp_path / "history.log"
    process = start("ingest.fusionsolar", "--history", argument, "--url", "http://127.0.0.1:9", "--user", "u",
                    log=log, FUSIONSOLAR_SYSTEM_CODE=SECRET)
    assert process.wait(timeout=30) == 2
    assert message in log.read_text() and "Traceback" not in log.read_text()
