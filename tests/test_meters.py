"""What real meters send, over real TCP into PostgreSQL: placeholder times, empty M-Bus slots, more M-Bus devices,
other countries' meters, exact decimals, impossible values and content meant to break the parser."""

import asyncio
from datetime import UTC, datetime, timedelta

from ingest import obis
from ingest.dsmr import Collector
from ingest.simulators.household import Household
from ingest.simulators.p1 import Variant, meter_time, telegram
from ingest.telegram import SPECS
from ingest.writer import Writer
from stack.settings import with_user
from tests.database import count, stored
from tests.peers import OneShotServer, collector, written
from tests.procs import free_port, start, stop, wait_for

AT = datetime(2026, 1, 10, 12, 6, 40, tzinfo=UTC)  # 260110130640W: 13:06:40 Brussels winter time
CAPTURED = datetime(2026, 1, 10, 12, 5, tzinfo=UTC)  # 260110130500W


def log_of(tmp_path) -> str:
    """The collector's log."""
    return (tmp_path / "collector.log").read_text()


def test_each_m_bus_device_is_its_own_series_and_untrustworthy_readings_are_skipped(db_url, tmp_path):
    ahead = meter_time(datetime.now(UTC) + timedelta(hours=1))
    installation = written(
        "0-0:1.0.0(260110130640W)",
        "1-0:1.8.1(001234.567*kWh)",
        "1-0:1.7.0(02.027*kW)",
        "1-0:1.6.0(632525252525W)(02.589*kW)",  # the month's peak with a placeholder time
        "0-1:24.1.0(003)", "0-1:96.1.1(4730303131)", "0-1:24.2.3(260110130500W)(01500.054*m3)",
        "0-2:24.1.0(003)", "0-2:96.1.1()", "0-2:24.2.3(700101010000W)(00000000)",  # an empty slot
        "0-3:24.1.0(003)", "0-3:96.1.1(4730303132)", "0-3:24.2.3(260110130500W)(00300.014*m3)",
        "0-4:24.1.0(004)", "0-4:96.1.1(4830303133)", "0-4:24.2.1(260110130500W)(00012.002*GJ)",
        "0-5:24.1.0(005)", "0-5:96.1.1(5330303134)", "0-5:24.2.1(260110130500W)(00001.000*m3)",  # unknown type
        "0-6:24.1.0(007)", "0-6:96.1.1(5730303135)", f"0-6:24.2.1({ahead})(00010.000*m3)",  # a clock ahead
    )
    no_clock = written("0-0:1.0.0(632525252525S)", "1-0:1.8.1(001234.600*kWh)",
                       "0-1:24.1.0(003)", "0-1:96.1.1(4730303131)", "0-1:24.2.3(260110131000W)(01500.060*m3)")
    server = OneShotServer(installation + no_clock)
    process = collector(server.port, db_url, tmp_path)
    try:
        wait_for(lambda: count(db_url, "dsmr", "gas_volume") == 2, what="both telegrams")
        assert process.poll() is None
    finally:
        stop(process)
    assert stored(db_url, "dsmr") == [
        (datetime(2026, 1, 10, 12, 5, tzinfo=UTC), "gas_volume", 1500.054),
        (CAPTURED, "gas_volume_2", 300.014),  # channel 3: the empty slot on channel 2 is no device
        (CAPTURED, "heat_energy", 30005 / 9),  # 12.002 GJ = 12.002e9 J / 3.6e6 J per kWh
        (AT, "energy_import_t1", 1234.567),
        (AT, "power_import", 2027.0),  # 02.027 kW, exactly
        (datetime(2026, 1, 10, 12, 10, tzinfo=UTC), "gas_volume", 1500.06),  # the telegram's own time was a placeholder
    ]
    log = log_of(tmp_path)
    for reason in ("no valid time at 1-0:1.6.0", "empty M-Bus slot 0-2", "time in the future at 0-6:24.2",
                   "no valid time at 0-0:1.0.0"):
        assert f"rejected ({reason})" in log
    assert "rejected (unknown M-Bus device at 0-5:24.1.0): device type 005 on channel 5" in log
    assert "1970" not in " ".join(str(row[0]) for row in stored(db_url, "dsmr"))


def test_the_simulated_installation_shows_every_case(db_url, tmp_path):
    port = free_port()
    bridge = start("ingest.simulators.dsmr_bridge", "--port", str(port), "--interval", "0.05", "--step", "60",
                   "--empty-slot", "--second-gas", "--heat-meter", "--placeholder-every", "3",
                   log=tmp_path / "bridge.log")
    process = collector(port, db_url, tmp_path)
    try:
        wait_for(lambda: count(db_url, "dsmr", "heat_energy") >= 3, what="heat readings")
        assert process.poll() is None
    finally:
        stop(process)
        stop(bridge)
    rows = stored(db_url, "dsmr")
    series = {metric for _, metric, _ in rows}
    assert {"gas_volume", "gas_volume_2", "heat_energy", "demand_max_month"} <= series
    assert min(ts for ts, _, _ in rows) > datetime(2020, 1, 1, tzinfo=UTC)
    first, second = stored(db_url, "dsmr", "gas_volume"), stored(db_url, "dsmr", "gas_volume_2")
    assert min(v for _, _, v in first) > max(v for _, _, v in second)  # two meters, not one series
    log = log_of(tmp_path)
    assert "rejected (no valid time at 0-1:24.2)" in log and "rejected (empty M-Bus slot 0-2)" in log


def test_a_dutch_meter_is_refused_by_the_fluvius_spec_and_read_by_dsmr5(db_url, tmp_path):
    port = free_port()
    bridge = start("ingest.simulators.dsmr_bridge", "--port", str(port), "--interval", "0.05", "--step", "1",
                   "--dutch", log=tmp_path / "bridge.log")
    try:
        fluvius = collector(port, db_url, tmp_path / "fluvius")
        wait_for(lambda: "rejected (other specification)" in log_of(tmp_path / "fluvius"), what="a refusal")
        assert fluvius.poll() is None
        stop(fluvius)
        assert stored(db_url, "dsmr") == []
        assert "version line 1-3:0.2.8(50); expected" in log_of(tmp_path / "fluvius")
        dutch = collector(port, db_url, tmp_path / "dutch", "--spec", "dsmr5")
        wait_for(lambda: count(db_url, "dsmr", "power_import") >= 3, what="Dutch telegrams stored")
        stop(dutch)
    finally:
        stop(bridge)
    assert "demand_avg_quarter" not in {metric for _, metric, _ in stored(db_url, "dsmr")}  # no Belgian lines


def test_impossible_values_in_a_crc_correct_telegram_are_not_stored(db_url, tmp_path):
    house = Household(now=datetime(2026, 6, 15, 11, 0, tzinfo=UTC))
    frames = []
    for variant in (Variant(), Variant(implausible=True), Variant()):
        house.advance(1.0)
        frames.append((house.now, telegram(house, variant)))
    assert b"1-0:1.8.1(999999999.965*kWh)" in frames[1][1] and b"1-0:1.7.0(-99.999*kW)" in frames[1][1]
    server = OneShotServer(b"".join(frame for _, frame in frames))
    process = collector(server.port, db_url, tmp_path)
    try:
        wait_for(lambda: count(db_url, "dsmr", "voltage_l1") == 3, what="three telegrams")
        assert process.poll() is None
    finally:
        stop(process)
    good, bad = {frames[0][0], frames[2][0]}, frames[1][0]
    assert {ts for ts, _, _ in stored(db_url, "dsmr", "energy_import_t1")} == good
    assert {ts for ts, _, _ in stored(db_url, "dsmr", "power_import")} == good
    assert bad in {ts for ts, _, _ in stored(db_url, "dsmr", "power_export")}  # the rest of that telegram is kept
    log = log_of(tmp_path)
    assert "rejected (above the catalog's maximum): energy_import_t1 = 999999999.965" in log
    assert "rejected (below the catalog's minimum): power_import = -99999.0" in log


def test_no_telegram_content_ends_the_collector(db_url, tmp_path):
    hostile = [
        written("0-0:1.0.0(260110130640W)", "1-0:1.8.1(1E999999999*kWh)"),  # an exponent no one can compute
        written("0-0:1.0.0(260110130641W)", "1-0:1.8.1(NaN*kWh)", "1-0:2.8.1(Infinity*kWh)"),
        written("0-0:1.0.0(260110130642W)", "0-1:24.1.0(abc)", "0-1:24.2.3(260110130500W)(1*m3)"),
        written("0-0:1.0.0(260110130643W)", "0-0:98.1.0(99)(1-0:1.6.0)(1-0:1.6.0)(200501000000S)"),
        written("0-0:1.0.0(260110130644W)", "1-0:1.6.0(260110130000W)", "0-0:96.14.0(ABCD)"),
        written("0-0:1.0.0(260110130645W)", "1-0:1.7.0(00.100*GJ)", "1-0:32.7.0(230.0)"),
        written("0-0:1.0.0(99)", "1-0:1.8.1(000001.000*kWh)"),
    ]
    good = written("0-0:1.0.0(260110130650W)", "1-0:1.8.1(001234.567*kWh)")
    server = OneShotServer(b"".join(hostile) + good)
    process = collector(server.port, db_url, tmp_path)
    try:
        wait_for(lambda: stored(db_url, "dsmr", "energy_import_t1"), what="the good telegram")
        assert process.poll() is None
    finally:
        stop(process)
    assert stored(db_url, "dsmr") == [(datetime(2026, 1, 10, 12, 6, 50, tzinfo=UTC), "energy_import_t1", 1234.567)]
    log = log_of(tmp_path)
    for reason in ("unreadable value at 1-0:1.8.1", "unparsable", "unreadable line n-n:1.6.0",
                   "unexpected unit at 1-0:1.7.0", "no unit at 1-0:32.7.0", "no valid time at 0-0:1.0.0"):
        assert f"rejected ({reason})" in log
    assert "Traceback" not in log


def test_a_bug_costs_one_telegram_not_the_collector(db_url, tmp_path, monkeypatch):
    def broken(*args):
        raise RuntimeError("a bug")

    writer = Writer(with_user(db_url, "energy_ingest"), "dsmr", tmp_path, obis.METRICS)
    collector_ = Collector(writer, SPECS["fluvius"])
    good = written("0-0:1.0.0(260110130650W)", "1-0:1.8.1(001234.567*kWh)").removesuffix(b"\r\n")
    monkeypatch.setattr("ingest.dsmr.readings", broken)
    asyncio.run(collector_.handle(good))
    monkeypatch.undo()
    asyncio.run(collector_.handle(good))
    assert collector_.rejections.total == {"unexpected RuntimeError": 1}
    assert collector_.stored == 1


def test_a_second_collector_on_one_spool_says_so_and_exits(db_url, tmp_path):
    port = free_port()  # no bridge: the first collector keeps retrying, holding its spool
    first = collector(port, db_url, tmp_path / "first", "--spool-dir", str(tmp_path / "spool"))
    try:
        wait_for(lambda: (tmp_path / "spool" / "dsmr.jsonl.lock").exists(), what="the first collector's lock")
        second = collector(port, db_url, tmp_path / "second", "--spool-dir", str(tmp_path / "spool"))
        assert second.wait(timeout=30) == 2  # an expected error: one line, exit code 2
        assert first.poll() is None
    finally:
        stop(first)
    message = log_of(tmp_path / "second").strip()
    assert message.startswith("error: spool") and "in use by another collector (pid" in message
    assert len(message.splitlines()) == 1


def test_new_series_have_plausible_ranges(db):
    rows = db.execute("SELECT name, kind, min_value, max_value, max_rise_per_hour FROM energy.metric "
                      "WHERE source = 'dsmr' AND name ~ '^(gas|water|heat|cooling)_'").fetchall()
    assert len(rows) == 16
    assert all(kind == "counter" and low == 0 and high > 0 and rise > 0 for _, kind, low, high, rise in rows)

