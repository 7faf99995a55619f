"""The shared write path: spooling, replay in order, nothing lost while a replay runs, bad readings dropped,
plausible ranges from the catalog, a database that hangs, a spool that cannot be written."""

import asyncio
import os
import socket
import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ingest.spool import Reading, Spool, SpoolInUse
from ingest.writer import Writer
from stack.settings import with_user
from tests.database import values

START = datetime(2026, 7, 1, tzinfo=UTC)
NAMES = {"power_import", "power_export", "energy_import_t1"}
DEAD = "postgresql://energy_ingest@127.0.0.1:1/nowhere"


def batch(second: int) -> list[Reading]:
    """One telegram's worth of readings."""
    ts = START + timedelta(seconds=second)
    return [Reading(ts, "power_import", float(second)), Reading(ts, "power_export", 0.0)]


def stored_seconds(url: str) -> list[int]:
    """The seconds (since START) that the stored power_import readings carry as their value, in time order."""
    return [int(value) for _, value in values(url, "dsmr", "power_import")]


class Clock:
    """A monotonic clock the test moves by hand, so backoff waits pass without sleeping."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_batches_written_while_a_replay_runs_are_not_lost(db_url, tmp_path):
    spool = Spool(tmp_path / "dsmr.jsonl")
    for second in range(100):
        spool.append(batch(second))
    spool.close()

    async def scenario():
        writer = Writer(with_user(db_url, "energy_ingest"), "dsmr", tmp_path, NAMES)
        replay = asyncio.create_task(writer.replay())
        await asyncio.sleep(0)  # the replay has started
        await asyncio.gather(*(writer.write(batch(100 + i)) for i in range(20)))
        await replay
        await writer.replay()
        await writer.close()
        return writer
    writer = asyncio.run(scenario())
    assert stored_seconds(db_url) == list(range(120))
    assert not writer.spool


def test_a_line_cut_short_by_a_crash_is_skipped_and_the_rest_replayed(db_url, tmp_path):
    spool = Spool(tmp_path / "dsmr.jsonl")
    spool.append(batch(1))
    spool.close()
    with spool.path.open("a") as handle:
        handle.write('[["2026-07-01T00:00:02+00:00","power_imp')  # killed mid-write
    writer = Writer(with_user(db_url, "energy_ingest"), "dsmr", tmp_path, NAMES)
    asyncio.run(writer.write(batch(3)))
    assert stored_seconds(db_url) == [1, 3]


def test_unknown_metrics_and_non_finite_values_are_dropped_not_spooled(db_url, tmp_path, caplog):
    writer = Writer(with_user(db_url, "energy_ingest"), "dsmr", tmp_path, NAMES)
    readings = [*batch(1), Reading(START, "power_import", float("nan")), Reading(START, "no_such_metric", 1.0),
                Reading(None, "power_import", 1.0)]
    asyncio.run(writer.write(readings))
    assert stored_seconds(db_url) == [1]
    assert not (tmp_path / "dsmr.jsonl").exists()
    assert writer.rejections.total == {"invalid": 3}
    assert caplog.text.count("rejected (invalid)") == 1  # the first in full, the rest in summaries


def test_readings_outside_the_catalog_ranges_are_not_stored(db_url, tmp_path):
    # 0004: energy_import_t1 within [0, 999999.999] rising at most 100 kWh per hour; power_import in [0, 100000] W
    hour = timedelta(hours=1)
    kwh = [(START, 100.0), (START + hour, 250.0), (START + 2 * hour, 180.0), (START + 3 * hour, 5.0),
           (START + 4 * hour, 181.0), (START + 5 * hour, 1_000_000.5)]
    watts = [(START, -1.0), (START + hour, 0.0), (START + 2 * hour, 100_000.0), (START + 3 * hour, 100_001.0)]
    writer = Writer(with_user(db_url, "energy_ingest"), "dsmr", tmp_path, NAMES)
    asyncio.run(writer.write([Reading(ts, "energy_import_t1", v) for ts, v in kwh]
                             + [Reading(ts, "power_import", v) for ts, v in watts]))
    # 250 rose 150 in an hour; 5 is a drop (stored: the aggregation tells a glitch from a reset) and does not
    # lower the reference, so 181 is 1 kWh above 180 two hours later; 1000000.5 is above the meter's range
    assert values(db_url, "dsmr", "energy_import_t1") == [kwh[0], kwh[2], kwh[3], kwh[4]]
    assert values(db_url, "dsmr", "power_import") == [watts[1], watts[2]]
    assert writer.rejections.total == {"rose faster than the catalog allows": 1, "above the catalog's maximum": 2,
                                       "below the catalog's minimum": 1}


def test_spooled_readings_are_judged_when_replayed(db_url, tmp_path):
    spooling = Writer(DEAD, "dsmr", tmp_path, NAMES)
    asyncio.run(spooling.write([Reading(START, "power_import", -99999.0), Reading(START, "power_export", 12.0)]))
    asyncio.run(spooling.close())
    assert spooling.spool.readings == 2
    writer = Writer(with_user(db_url, "energy_ingest"), "dsmr", tmp_path, NAMES)
    assert asyncio.run(writer.replay())
    assert values(db_url, "dsmr", "power_import") == []
    assert values(db_url, "dsmr", "power_export") == [(START, 12.0)]
    assert writer.rejections.total == {"below the catalog's minimum": 1}


def locked_table(db_url: str) -> psycopg.Connection:
    """An owner session holding energy.raw_reading locked, as a stuck migration or a hung server would."""
    conn = psycopg.connect(db_url)
    conn.execute("LOCK TABLE energy.raw_reading IN ACCESS EXCLUSIVE MODE")
    return conn


def test_a_write_that_hangs_is_spooled_after_the_timeout_and_replayed(db_url, tmp_path):
    clock = Clock()
    writer = Writer(with_user(db_url, "energy_ingest"), "dsmr", tmp_path, NAMES, write_timeout=1, clock=clock)
    lock = locked_table(db_url)

    async def scenario():
        assert not await writer.write(batch(1))  # the INSERT waits for the lock until the timeout
        assert not await writer.write(batch(2))  # backing off: straight to the spool
        lock.rollback()
        clock.now += 60
        assert await writer.write(batch(3))
    try:
        asyncio.run(asyncio.wait_for(scenario(), 60))  # a regression fails here instead of hanging the suite
    finally:
        lock.close()
    assert stored_seconds(db_url) == [1, 2, 3]


def test_a_server_that_never_answers_is_given_up_after_the_timeout(tmp_path, caplog):
    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never says a word
    threading.Thread(target=lambda: [silent.accept() for _ in range(3)], daemon=True).start()
    url = f"postgresql://energy_ingest@127.0.0.1:{silent.getsockname()[1]}/energy"
    writer = Writer(url, "dsmr", tmp_path, NAMES, write_timeout=1)
    assert not asyncio.run(asyncio.wait_for(writer.write(batch(1)), 30))
    assert writer.spool.readings == 2
    assert "database unavailable" in caplog.text


def test_a_stop_that_arrives_as_a_write_completes_is_not_lost(db_url, tmp_path):
    writer = Writer(with_user(db_url, "energy_ingest"), "dsmr", tmp_path, NAMES)

    async def scenario():
        assert await writer.write(batch(1))  # connected
        collector = asyncio.current_task()
        execute = writer.conn.execute

        async def execute_then_stopped(*args):
            result = await execute(*args)
            collector.cancel()  # Ctrl-C (or a caller's timeout) just as the INSERT returns
            return result
        writer.conn.execute = execute_then_stopped
        with pytest.raises(asyncio.CancelledError):
            await writer.write(batch(2))
            await asyncio.sleep(0)  # the stop is delivered here at the latest; a collector that missed it runs on
    asyncio.run(scenario())
    assert stored_seconds(db_url) == [1, 2]


@pytest.mark.parametrize("make_unusable", [
    pytest.param(lambda path: path.mkdir(), id="a directory in its place"),
    pytest.param(lambda path: path.symlink_to("/dev/full"), id="a full disk"),
])
def test_an_unusable_spool_keeps_readings_in_memory_until_the_database_answers(db_url, tmp_path, caplog,
                                                                                make_unusable):
    make_unusable(tmp_path / "dsmr.jsonl")
    clock = Clock()
    writer = Writer(with_user(db_url, "energy_ingest"), "dsmr", tmp_path, NAMES, write_timeout=1, clock=clock)
    lock = locked_table(db_url)

    async def scenario():
        for second in range(1, 4):
            assert not await writer.write(batch(second))
        assert writer.spool.memory_readings == 6
        lock.rollback()
        clock.now += 60
        assert await writer.write(batch(4))
    try:
        asyncio.run(asyncio.wait_for(scenario(), 60))
    finally:
        lock.close()
    assert stored_seconds(db_url) == [1, 2, 3, 4]
    assert "unusable (IsADirectoryError" in caplog.text or "unusable (OSError: No space left" in caplog.text
    assert "bridge" not in caplog.text


def gauge_or_counter(metric: str) -> bool:
    """power_* are gauges here, everything else counters."""
    return metric.startswith("power")


def telegram_batch(second: int) -> list[Reading]:
    """A gauge and a counter reading."""
    ts = START + timedelta(seconds=second)
    return [Reading(ts, "power_import", float(second)), Reading(ts, "energy_import_t1", float(second))]


def test_memory_over_its_cap_loses_the_oldest_gauges_and_no_counter(tmp_path):
    (tmp_path / "dsmr.jsonl").mkdir()
    spool = Spool(tmp_path / "dsmr.jsonl", memory_cap=40)
    spool.is_gauge = gauge_or_counter
    for second in range(30):
        spool.append(telegram_batch(second))
    kept = [reading for batch in spool.read() for reading in batch]
    assert [r.value for r in kept if r.metric == "energy_import_t1"] == list(range(30))
    gauges = [r.value for r in kept if r.metric == "power_import"]
    assert gauges == list(range(30 - len(gauges), 30)) and len(gauges) < 30  # the newest ones
    assert len(kept) <= 40


def test_a_spool_file_over_its_cap_loses_the_oldest_gauges_and_no_counter(tmp_path):
    spool = Spool(tmp_path / "dsmr.jsonl", cap_bytes=20_000)
    spool.is_gauge = gauge_or_counter
    for second in range(500):  # about 120 bytes a batch: 60 kB uncapped
        spool.append(telegram_batch(second))
    kept = [reading for batch in spool.read() for reading in batch]
    assert [r.value for r in kept if r.metric == "energy_import_t1"] == list(range(500))
    gauges = [r.value for r in kept if r.metric == "power_import"]
    assert gauges == list(range(500 - len(gauges), 500)) and len(gauges) < 500
    assert spool.readings == len(kept)
    spool.close()
    assert Spool(tmp_path / "dsmr.jsonl").readings == len(kept)  # what a restart finds


def test_a_second_writer_on_one_spool_is_refused_with_a_clear_message(tmp_path):
    first = Spool(tmp_path / "dsmr.jsonl")
    with pytest.raises(SpoolInUse, match=f"in use by another collector \\(pid {os.getpid()}\\)"):
        Spool(tmp_path / "dsmr.jsonl")
    first.close()
    Spool(tmp_path / "dsmr.jsonl").close()  # free again
