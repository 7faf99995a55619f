"""The SUN2000 collector against a real Modbus TCP server on loopback (the simulator)."""

import asyncio
import threading
from datetime import UTC, datetime

import psycopg
import pytest

from ingest.registers import REGISTERS, decode, encode, requests
from ingest.simulators.inverter import InverterModel
from ingest.simulators.sun2000 import OneClientServer, Simulator
from stack.settings import with_user
from tests.procs import free_port, start, stop, wait_for

NOON = datetime(2026, 6, 21, 11, 0, tzinfo=UTC)


class ServerThread:
    """The simulator serving from a background thread's event loop."""

    def __init__(self, simulator: Simulator, unit: int = 1):
        self.simulator, self.port = simulator, free_port()
        self.loop = asyncio.new_event_loop()
        self.server = None
        ready = threading.Event()
        threading.Thread(target=self._run, args=(unit, ready), daemon=True).start()
        assert ready.wait(10), "the simulator did not start"

    def _run(self, unit, ready):
        async def listen():
            self.server = OneClientServer(self.simulator.device(unit), address=("127.0.0.1", self.port))
            await self.server.serve_forever(background=True)
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(listen())
        ready.set()
        self.loop.run_forever()

    def drop_clients(self):
        """Close every client connection, as a flaky link would."""
        def close():
            for connection in list(self.server.active_connections.values()):
                connection.close()
        self.loop.call_soon_threadsafe(close)


def collector(port: int, url: str, tmp_path, *extra: str):
    """Start the SUN2000 collector as a process with fast polling."""
    return start("ingest.sun2000", "--host", "127.0.0.1", "--port", str(port), "--database-url",
                 with_user(url, "energy_ingest"), "--spool-dir", str(tmp_path / "spool"), "--interval", "0.2",
                 "--connect-delay", "0.1", "--timeout", "1", *extra, log=tmp_path / "collector.log")


def polls(url: str) -> int:
    """How many polls are stored (one power_active reading each)."""
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM energy.readings WHERE source = 'sun2000' "
                            "AND metric = 'power_active'").fetchone()[0]


def latest(url: str) -> dict[str, float]:
    """The newest stored value of every sun2000 metric."""
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT DISTINCT ON (metric) metric, value FROM energy.readings "
                                 "WHERE source = 'sun2000' ORDER BY metric, ts DESC").fetchall())


def test_encode_and_decode_agree_on_signs_gains_markers_and_strings():
    by_name = {r.name: r for r in REGISTERS}
    assert encode(by_name["active_power"], -1234) == [0xFFFF, 0xFB2E]
    assert decode(by_name["active_power"], [0xFFFF, 0xFB2E]) == -1234
    assert decode(by_name["internal_temperature"], [0xFFC9]) == -5.5
    assert decode(by_name["accumulated_yield_energy"], [0x0023, 0xCA3E]) == 23455.34
    assert decode(by_name["efficiency"], [0xFFFF]) is None
    assert decode(by_name["active_power"], [0x7FFF, 0xFFFF]) is None
    assert decode(by_name["model_name"], encode(by_name["model_name"], "SUN2000-5KTL")) == "SUN2000-5KTL"
    assert all(request.count <= 64 for request in requests(REGISTERS))


def test_stored_values_equal_the_registers(db_url, tmp_path):
    overrides = {"active_power": -1234, "pv_01_voltage": 412.3, "phase_A_current": -1.234,
                 "internal_temperature": -5.5, "accumulated_yield_energy": 23456.78, "efficiency": 655.35,
                 "power_meter_active_power": -2500, "power_factor": -0.987}
    model = InverterModel(now=NOON, meter=True, overrides=overrides)
    server = ServerThread(Simulator(model, clock=lambda: NOON))
    process = collector(server.port, db_url, tmp_path)
    try:
        wait_for(lambda: polls(db_url) >= 3, what="three polls")
    finally:
        stop(process)
    values = latest(db_url)
    expected = {r.metric: decode(r, encode(r, v)) for r in REGISTERS
                for name, v in model.values(NOON).items() if r.name == name and r.metric}
    expected = {metric: value for metric, value in expected.items() if value is not None}
    assert values == pytest.approx(expected)
    assert values["power_active"] == -1234 and values["grid_current_a"] == -1.234
    assert values["temperature_internal"] == -5.5 and values["power_factor"] == -0.987
    assert values["energy_yield_total"] == 23456.78 and values["power_meter"] == -2500
    assert "efficiency" not in values  # 0xFFFF: not available
    assert values["rated_power"] == 5000
    log = (tmp_path / "collector.log").read_text()
    assert "inverter SUN2000-5KTL-L1, serial HV2150012345, rated 5000.0 W" in log
    assert log.count("has no battery registers") == 1
    assert "WARNING" not in log


def test_busy_and_slow_answers_are_retried_and_polling_goes_on(db_url, tmp_path):
    model = InverterModel(now=NOON)
    server = ServerThread(Simulator(model, clock=lambda: NOON, busy_every=4, slow_every=7, slow_seconds=1.5))
    process = collector(server.port, db_url, tmp_path)
    try:
        wait_for(lambda: polls(db_url) >= 10, what="ten polls through the faults")
        assert process.poll() is None
    finally:
        stop(process)
    log = (tmp_path / "collector.log").read_text()
    assert "device busy on registers" in log and "no answer for registers" in log


def test_a_dropped_or_taken_over_connection_is_reestablished(db_url, tmp_path):
    model = InverterModel(now=NOON)
    server = ServerThread(Simulator(model, clock=lambda: NOON))
    process = collector(server.port, db_url, tmp_path)
    try:
        wait_for(lambda: polls(db_url) >= 3, what="polls before the drop")
        server.drop_clients()
        before = polls(db_url)
        wait_for(lambda: polls(db_url) >= before + 3, what="polls after the drop")
        intruder = collector(server.port, db_url, tmp_path / "intruder")  # takes the device over
        before = polls(db_url)
        wait_for(lambda: polls(db_url) >= before + 6, what="polls while two clients fight")
        stop(intruder)
        assert process.poll() is None
    finally:
        stop(process)
    assert (tmp_path / "collector.log").read_text().count("connected to 127.0.0.1") >= 3


def test_a_database_outage_loses_no_poll(db_url, tmp_path):
    model = InverterModel(now=NOON)
    clock = [NOON]
    server = ServerThread(Simulator(model, clock=lambda: clock[0]))
    dead = "postgresql://energy_ingest@127.0.0.1:1/nowhere"
    process = start("ingest.sun2000", "--host", "127.0.0.1", "--port", str(server.port), "--database-url", dead,
                    "--spool-dir", str(tmp_path / "spool"), "--interval", "0.2", "--connect-delay", "0",
                    log=tmp_path / "collector.log")
    spool = tmp_path / "spool" / "sun2000.jsonl"
    try:
        wait_for(lambda: spool.exists() and spool.read_text().count("\n") >= 5, what="polls spooled")
    finally:
        stop(process)
    spooled = spool.read_text().count("\n")
    process = collector(server.port, db_url, tmp_path)
    try:
        wait_for(lambda: not spool.exists(), what="spool replayed")
    finally:
        stop(process)
    assert polls(db_url) >= spooled
