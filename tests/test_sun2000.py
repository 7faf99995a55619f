"""The SUN2000 collector against a real Modbus TCP server on loopback (the simulator)."""

import asyncio
import json
import re
import socketserver
import struct
import threading
from datetime import UTC, datetime

import pytest
from pymodbus.client import AsyncModbusTcpClient

from ingest.registers import BY_NAME, REGISTERS, decode, encode
from ingest.simulators.inverter import InverterModel
from ingest.simulators.sun2000 import OneClientServer, Simulator
from stack.settings import with_user
from tests.database import count, newest, values
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
    return count(url, "sun2000", "power_active")


def test_encode_and_decode_agree_on_signs_gains_markers_and_strings():
    assert encode(BY_NAME["active_power"], -1234) == [0xFFFF, 0xFB2E]
    assert decode(BY_NAME["active_power"], [0xFFFF, 0xFB2E]) == -1234
    assert decode(BY_NAME["internal_temperature"], [0xFFC9]) == -5.5
    assert decode(BY_NAME["accumulated_yield_energy"], [0x0023, 0xCA3E]) == 23455.34
    assert decode(BY_NAME["efficiency"], [0xFFFF]) is None
    assert decode(BY_NAME["active_power"], [0x7FFF, 0xFFFF]) is None
    assert decode(BY_NAME["model_name"], encode(BY_NAME["model_name"], "SUN2000-5KTL")) == "SUN2000-5KTL"
    # a name padded with NULs and garbage behind the first NUL, and a byte that is not UTF-8
    assert decode(BY_NAME["model_name"], [0x5355, 0x4E00, 0x4142] + [0] * 12) == "SUN"
    assert decode(BY_NAME["serial_number"], [0x4856, 0xFF32] + [0] * 8) == "HVÿ2"


# Words as an inverter sends them, and the value they mean (worked out by hand from gain and sign).
WORDS = [
    ("nb_pv_strings", [0x0004], 4),
    ("nb_pv_strings", [0xFFFF], None),
    ("pv_03_voltage", [0x0F1A], 386.6),  # 3866 / 10
    ("pv_03_current", [0x0307], 7.75),  # 775 / 100
    ("pv_24_current", [0xFFF6], -0.1),  # -10 / 100: a little current back into the string at dusk
    ("pv_24_voltage", [0x7FFF], None),
    ("alarm_1", [0x0000], 0),
    ("alarm_1", [0x0201], 0x0201),
    ("alarm_2", [0xFFFF], 0xFFFF),  # a word of alarm bits has no "not available" marker
    ("alarm_3", [0xFFFF], None),
    ("fault_code", [0x07D1], 2001),
    ("fault_code", [0xFFFF], None),
    ("line_voltage_A_B", [0x0F9E], 399.8),  # 3998 / 10
    ("line_voltage_C_A", [0xFFFF], None),
    ("day_active_power_peak", [0x0000, 0x1492], 5266),
    ("day_active_power_peak", [0xFFFF, 0xFFF6], -10),
    ("day_active_power_peak", [0x7FFF, 0xFFFF], None),
    ("insulation_resistance", [0x0BB8], 3.0),  # 3000 / 1000 MΩ
    ("insulation_resistance", [0xFFFF], None),
    ("device_status", [0xA000], 0xA000),
    ("grid_A_voltage", [0x0000, 0x0908], 231.2),  # 2312 / 10
    ("grid_C_voltage", [0x7FFF, 0xFFFF], None),
    ("active_grid_A_current", [0xFFFF, 0xFE0C], -5.0),  # -500 / 100: exporting
    ("active_grid_B_current", [0x0000, 0x04D2], 12.34),
    ("active_grid_A_power", [0xFFFF, 0xF830], -2000),
    ("active_grid_C_power", [0x0000, 0x0457], 1111),
    ("active_grid_B_power", [0x7FFF, 0xFFFF], None),
    ("active_grid_frequency", [0x1389], 50.01),
    ("active_grid_frequency", [0x7FFF], None),
    ("meter_type", [0x0001], 1),
    ("meter_type", [0x0000], 0),
    ("grid_exported_energy", [0xFFFF, 0xCF2C], 125.0),  # -12500 / 100, reported negative by some meters
    ("grid_exported_energy", [0x0000, 0x30D4], 125.0),
    ("grid_exported_energy", [0x7FFF, 0xFFFF], None),
    ("storage_rated_capacity", [0x0000, 0x2710], 10.0),  # 10000 Wh
    ("storage_rated_capacity", [0xFFFF, 0xFFFF], None),
    ("storage_running_status", [0x0002], 2),
    ("storage_total_charge", [0x0001, 0x86A0], 1000.0),  # 100000 / 100
    ("storage_total_discharge", [0x0000, 0xEA60], 600.0),
    ("storage_current_day_charge_capacity", [0x0000, 0x01F4], 5.0),
    ("storage_current_day_discharge_capacity", [0xFFFF, 0xFFFF], None),
]


@pytest.mark.parametrize(("name", "words", "value"), WORDS)
def test_each_register_decodes_what_a_real_inverter_sends(name, words, value):
    assert decode(BY_NAME[name], words) == value


def test_the_catalog_names_device_codes(db):
    names = dict(db.execute("SELECT metric || ' ' || code, text FROM energy.status_text").fetchall())
    assert names["device_status 512"] == "On-grid" and names["device_status 40960"] == "Standby: no irradiation"
    assert names["battery_status 2"] == "Running" and names["meter_type 1"] == "Three-phase"


@pytest.mark.parametrize(("strings", "inverter_reads"), [
    (2, [(32008, 12), (32064, 52)]),  # alarms to PV2 (32008-32019), input power to daily yield (32064-32115)
    (24, [(32008, 64), (32072, 44)]),  # alarms to phase C voltage (64 registers), phase A current to daily yield
])
def test_reads_never_span_a_large_gap_or_more_than_64_registers(db_url, tmp_path, strings, inverter_reads):
    model = InverterModel(now=NOON, strings=strings, meter=True, battery=True)
    simulator = Simulator(model, clock=lambda: NOON)
    server = ServerThread(simulator)
    process = collector(server.port, db_url, tmp_path)
    try:
        wait_for(lambda: polls(db_url) >= 2, what="two polls")
    finally:
        stop(process)
    info = [(30000, 25), (30071, 4)]  # model and serial (30000-30024); strings and rated power (30071-30074)
    poll = [*inverter_reads, (37100, 38), (37758, 30)]  # meter 37100-37137, battery 37758-37787
    assert simulator.reads[:2 + 2 * len(poll)] == info + poll + poll
    pv_metrics = {metric for metric in newest(db_url, "sun2000") if re.fullmatch(r"pv_\d\d_\w+", metric)}
    assert pv_metrics == {f"pv_{n:02}_{q}" for n in range(1, strings + 1) for q in ("voltage", "current")}


def test_the_simulator_refuses_a_read_across_registers_it_does_not_have():
    server = ServerThread(Simulator(InverterModel(now=NOON, strings=2), clock=lambda: NOON))

    async def read(address, count):
        client = AsyncModbusTcpClient("127.0.0.1", port=server.port, timeout=2, retries=0)
        await client.connect()
        try:
            return await client.read_holding_registers(address, count=count, device_id=1)
        finally:
            client.close()

    assert asyncio.run(read(32016, 62)).exception_code == 2  # the old batch: PV1 to input power, over PV3-PV24
    assert asyncio.run(read(32008, 12)).registers[:3] == [0, 0, 0]  # alarms, then a hole of 5 read as 0


def test_stored_values_equal_the_registers(db_url, tmp_path):
    overrides = {"active_power": -1234, "pv_01_voltage": 412.3, "phase_A_current": -1.234,
                 "internal_temperature": -5.5, "accumulated_yield_energy": 23456.78, "efficiency": 655.35,
                 "power_meter_active_power": -2500, "power_factor": -0.987, "grid_exported_energy": -1234.56,
                 "active_grid_B_current": -3.21, "alarm_1": 0x0201, "insulation_resistance": 65.535}
    model = InverterModel(now=NOON, strings=3, meter=True, battery=True, overrides=overrides)
    server = ServerThread(Simulator(model, clock=lambda: NOON))
    process = collector(server.port, db_url, tmp_path)
    try:
        wait_for(lambda: polls(db_url) >= 3, what="three polls")
    finally:
        stop(process)
    values = newest(db_url, "sun2000")
    expected = {r.metric: decode(r, encode(r, v)) for r in REGISTERS
                for name, v in model.values(NOON).items() if r.name == name and r.metric}
    expected = {metric: value for metric, value in expected.items() if value is not None}
    assert values == pytest.approx(expected)
    assert values["power_active"] == -1234 and values["grid_current_a"] == -1.234
    assert values["temperature_internal"] == -5.5 and values["power_factor"] == -0.987
    assert values["energy_yield_total"] == 23456.78 and values["power_meter"] == -2500
    assert values["meter_energy_export"] == 1234.56  # sent negative, a counter is never stored negative
    assert values["meter_current_b"] == -3.21 and values["alarm_1"] == 513
    assert values["pv_strings"] == 3 and values["pv_03_voltage"] == 380.0 and "pv_04_voltage" not in values
    assert values["battery_capacity"] == 10.0 and values["battery_status"] == 2
    assert values["battery_energy_discharged"] == 2100.0 and values["meter_type"] == 1
    assert values["grid_voltage_ab"] == 399.8 and values["meter_voltage_a"] == 231.2
    assert "efficiency" not in values and "insulation_resistance" not in values  # 0xFFFF: not available
    assert values["rated_power"] == 5000
    log = (tmp_path / "collector.log").read_text()
    assert "inverter SUN2000-5KTL-M1, serial HV2150012345, rated 5000.0 W, 3 PV strings" in log
    assert "WARNING" not in log


def test_an_unknown_number_of_strings_reads_no_string_and_polls_the_rest(db_url, tmp_path):
    model = InverterModel(now=NOON, overrides={"nb_pv_strings": 0xFFFF})  # not available
    server = ServerThread(Simulator(model, clock=lambda: NOON))
    process = collector(server.port, db_url, tmp_path)
    try:
        wait_for(lambda: polls(db_url) >= 2, what="two polls")
    finally:
        stop(process)
    assert not any(metric.startswith("pv_") for metric in newest(db_url, "sun2000"))  # nor pv_strings
    log = (tmp_path / "collector.log").read_text()
    assert "the inverter reports None PV strings: not reading string values" in log
    assert log.count("has no meter registers") == 1 and log.count("has no battery registers") == 1


class ShortAnswers(socketserver.BaseRequestHandler):
    """A Modbus TCP peer that answers every read with one register, whatever was asked."""

    def handle(self):
        while header := self.request.recv(12):
            transaction = struct.unpack(">H", header[:2])[0]
            self.request.sendall(struct.pack(">HHHBBBH", transaction, 0, 5, header[6], 3, 2, 0x1234))


def test_a_short_answer_is_logged_and_the_collector_keeps_trying(db_url, tmp_path):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), ShortAnswers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    process = collector(server.server_address[1], db_url, tmp_path)
    log = tmp_path / "collector.log"
    try:
        wait_for(lambda: log.read_text().count("1 registers in the answer") >= 2, what="two short answers")
        assert process.poll() is None
    finally:
        stop(process)
        server.shutdown()
    assert "registers 30000+25: 1 registers in the answer" in log.read_text()
    assert polls(db_url) == 0


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
    log = tmp_path / "collector.log"
    try:
        wait_for(lambda: polls(db_url) >= 3, what="polls before the drop")
        server.drop_clients()
        before = polls(db_url)
        wait_for(lambda: polls(db_url) >= before + 3, what="polls after the drop")
        intruder = collector(server.port, db_url, tmp_path / "intruder")  # takes the device over
        before = polls(db_url)
        wait_for(lambda: polls(db_url) >= before + 6, what="polls while two clients fight")
        # connected at start, after the drop, after the takeover (the intruder alone can make the polls above while
        # the collector waits to reconnect)
        wait_for(lambda: log.read_text().count("connected to 127.0.0.1") >= 3, what="the collector back on the device")
        stop(intruder)
        assert process.poll() is None
    finally:
        stop(process)


def test_a_database_outage_loses_no_poll(db_url, tmp_path):
    model = InverterModel(now=NOON)
    server = ServerThread(Simulator(model, clock=lambda: NOON))
    dead = "postgresql://energy_ingest@127.0.0.1:1/nowhere"
    process = start("ingest.sun2000", "--host", "127.0.0.1", "--port", str(server.port), "--database-url", dead,
                    "--spool-dir", str(tmp_path / "spool"), "--interval", "0.2", "--connect-delay", "0",
                    log=tmp_path / "collector.log")
    spool = tmp_path / "spool" / "sun2000.jsonl"
    try:
        wait_for(lambda: spool.exists() and spool.read_text().count("\n") >= 5, what="polls spooled")
    finally:
        stop(process)
    spooled = {datetime.fromisoformat(ts) for line in spool.read_text().splitlines()
               for ts, metric, _ in json.loads(line) if metric == "power_active"}
    process = collector(server.port, db_url, tmp_path)
    try:
        wait_for(lambda: not spool.exists(), what="spool replayed")
    finally:
        stop(process)
    stored = {ts for ts, _ in values(db_url, "sun2000", "power_active")}
    assert len(spooled) >= 5 and spooled <= stored  # every spooled poll, at its own poll time
