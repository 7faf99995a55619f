"""The DSMR collector against real TCP streams on loopback: values, faults, reconnects, a lost database."""

import signal
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.framer import Framer
from ingest.simulators.household import Household
from ingest.simulators.p1 import telegram
from ingest.telegram import SPECS, TelegramError, parse, readings
from stack.settings import ROOT
from tests.database import count, stored, values
from tests.peers import OneShotServer, collector
from tests.procs import free_port, start, stop, wait_for

EXAMPLE = ROOT / "tests" / "data" / "fluvius-example.txt"  # CRLF line ends, as sent
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_every_value_equals_what_the_meter_sent(db_url, tmp_path):
    house = Household(now=datetime(2026, 6, 15, 11, 0, 0, tzinfo=UTC))
    payload, sent = b"", []
    for _ in range(5):
        house.advance(1.0)
        payload += telegram(house)
        sent.append((house.now, [round(v, 3) for v in house.import_kwh + house.export_kwh], house.power,
                     house.voltages, house.gas_reading))
    server = OneShotServer(payload)
    process = collector(server.port, db_url, tmp_path)
    try:
        wait_for(lambda: count(db_url, "dsmr", "power_import") == 5, what="five telegrams stored")
    finally:
        stop(process)
    rows = {(ts, metric): value for ts, metric, value in stored(db_url, "dsmr")}
    for ts, counters, (imported, exported), voltages, (gas_ts, gas) in sent:
        names = ("energy_import_t1", "energy_import_t2", "energy_export_t1", "energy_export_t2")
        assert [rows[ts, name] for name in names] == counters
        assert (rows[ts, "power_import"], rows[ts, "power_export"]) == (imported, exported)
        assert [rows[ts, f"voltage_l{i}"] for i in (1, 2, 3)] == list(voltages)
        assert rows[gas_ts, "gas_volume"] == round(gas, 3)
        assert sum(1 for key in rows if key[0] == ts) == 21  # every telegram-time metric
    assert house.export_kwh[0] > 345.678  # the June noon sun exported


def test_the_real_example_telegram(db_url, tmp_path):
    server = OneShotServer(EXAMPLE.read_bytes())
    process = collector(server.port, db_url, tmp_path)
    try:
        wait_for(lambda: len(stored(db_url, "dsmr")) >= 23, what="the example stored")
    finally:
        stop(process)
    rows = {metric: (ts, value) for ts, metric, value in stored(db_url, "dsmr")}
    at = datetime(2020, 5, 12, 11, 54, 9, tzinfo=UTC)
    assert rows["energy_import_t1"] == (at, 0.034)
    assert rows["energy_import_t2"] == (at, 15.758)
    assert rows["energy_export_t2"] == (at, 0.011)
    assert rows["demand_avg_quarter"] == (at, 2351.0)
    assert rows["voltage_l1"] == (at, 234.7)
    assert rows["tariff"] == (at, 1.0)
    assert rows["demand_max_month"] == (datetime(2020, 5, 9, 11, 45, 58, tzinfo=UTC), 2589.0)
    assert rows["gas_volume"] == (datetime(2020, 5, 12, 11, 45, 58, tzinfo=UTC), 112.384)  # channel 1, not water
    assert rows["water_volume"] == (datetime(2020, 5, 12, 11, 45, 58, tzinfo=UTC), 872.234)


def test_bad_telegrams_are_counted_and_never_stored(db_url, tmp_path):
    port = free_port()
    bridge = start("ingest.simulators.dsmr_bridge", "--port", str(port), "--interval", "0.05", "--step", "1",
                   "--bad-crc-every", "3", "--non-ascii-every", "5", "--garbage-every", "2", "--truncate-every", "7",
                   "--split", log=tmp_path / "bridge.log")
    process = collector(port, db_url, tmp_path)
    try:
        wait_for(lambda: count(db_url, "dsmr", "power_import") >= 40, what="good telegrams stored")
        assert process.poll() is None
    finally:
        stop(process)
        stop(bridge)
    log = (tmp_path / "collector.log").read_text()
    for reason in ("(crc)", "(non-ascii)", "(unfinished telegrams)", "(bytes of noise)"):
        assert reason in log
    # the spoiled meter reading (a 9 written over the first digit) never reached the table
    assert max(value for _, _, value in stored(db_url, "dsmr", "energy_import_t1")) < 9000


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_telegrams_never_crash_the_parse_path(data):
    frame = EXAMPLE.read_bytes()
    spec = SPECS["fluvius"]
    assert readings(parse(frame.rstrip(), spec)[0], spec, NOW)[0]  # the unmutated telegram is valid
    mutated = bytearray(frame)
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(mutated) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        if action == "flip":
            mutated[position] = data.draw(st.integers(0, 255))
        elif action == "delete":
            del mutated[position]
        else:
            mutated.insert(position, data.draw(st.integers(0, 255)))
    framer = Framer()
    for chunk_start in range(0, len(mutated), 97):
        for item in framer.feed(bytes(mutated[chunk_start:chunk_start + 97])):
            try:
                result, _ = readings(parse(item, spec)[0], spec, NOW)
            except TelegramError:
                continue
            assert all(isinstance(r.value, float) for r in result)


def test_the_collector_reconnects_when_the_bridge_restarts(db_url, tmp_path):
    port = free_port()
    args = ("--port", str(port), "--interval", "0.1", "--step", "1")
    bridge = start("ingest.simulators.dsmr_bridge", *args, log=tmp_path / "bridge.log")
    process = collector(port, db_url, tmp_path)
    try:
        wait_for(lambda: count(db_url, "dsmr", "power_import") >= 5, what="telegrams before the restart")
        stop(bridge, signal.SIGKILL)
        before = count(db_url, "dsmr", "power_import")
        time.sleep(1.5)
        bridge = start("ingest.simulators.dsmr_bridge", *args, log=tmp_path / "bridge.log")
        wait_for(lambda: count(db_url, "dsmr", "power_import") >= before + 10, what="telegrams after the restart")
        assert process.poll() is None
    finally:
        stop(process)
        stop(bridge)


def contiguous_seconds(url: str) -> tuple[int, int]:
    """(distinct telegram seconds stored, span in seconds from first to last, inclusive)."""
    times = [ts for ts, _ in values(url, "dsmr", "power_import")]
    return len(set(times)), int((times[-1] - times[0]).total_seconds()) + 1


@pytest.mark.slow
def test_a_database_outage_loses_nothing_and_stores_nothing_twice(tmp_path):
    from db import migrate
    from tests.pg import start_server, stop_server

    server, base = start_server()
    try:
        url = server.url()
        migrate.migrate(url, schedule=False)
        port = free_port()
        bridge = start("ingest.simulators.dsmr_bridge", "--port", str(port), "--interval", "0.1", "--step", "1",
                       log=tmp_path / "bridge.log")
        process = collector(port, url, tmp_path)
        try:
            wait_for(lambda: count(url, "dsmr", "power_import") >= 5, what="telegrams before the outage")
            server.terminate()
            time.sleep(30)
            spooled = (tmp_path / "spool" / "dsmr.jsonl").read_text().count("\n")
            assert spooled > 100
            server.start()
            wait_for(lambda: not (tmp_path / "spool" / "dsmr.jsonl").exists(), timeout=60, what="spool replayed")
            time.sleep(1)
        finally:
            stop(process)
            stop(bridge)
        n, span = contiguous_seconds(url)
        assert n == span and n > 300  # every telegram second, none missing
        voltages = Counter(ts for ts, metric, _ in stored(url, "dsmr") if metric.startswith("voltage"))
        assert set(voltages.values()) == {3}  # each telegram's three phases, none twice
    finally:
        stop_server(server, base)


def test_a_killed_collector_replays_its_spool_after_restart(db_url, tmp_path):
    port = free_port()
    bridge = start("ingest.simulators.dsmr_bridge", "--port", str(port), "--interval", "0.05", "--step", "1",
                   log=tmp_path / "bridge.log")
    dead = "postgresql://energy_ingest@127.0.0.1:1/nowhere"
    try:
        process = collector(port, dead, tmp_path)
        spool = tmp_path / "spool" / "dsmr.jsonl"
        wait_for(lambda: spool.exists() and spool.read_text().count("\n") >= 20, what="readings spooled")
        stop(process, signal.SIGKILL)
        lines = spool.read_text().splitlines()
        spooled_seconds = {line.split('"', 2)[1] for line in lines if line.endswith("]]")}
        process = collector(port, db_url, tmp_path)
        wait_for(lambda: not spool.exists(), what="spool replayed")
        stop(process)
    finally:
        stop(bridge)
    stored_seconds = {ts.isoformat() for ts, _, _ in stored(db_url, "dsmr", "power_import")}
    assert spooled_seconds and spooled_seconds <= stored_seconds
