"""The shared write path: spooling, replay in order, nothing lost while a replay runs, bad readings dropped."""

import asyncio
from datetime import UTC, datetime, timedelta

import psycopg

from ingest.spool import Reading, Spool
from ingest.writer import Writer
from stack.settings import with_user

START = datetime(2026, 7, 1, tzinfo=UTC)
NAMES = {"power_import", "power_export"}


def batch(second: int) -> list[Reading]:
    """One telegram's worth of readings."""
    ts = START + timedelta(seconds=second)
    return [Reading(ts, "power_import", float(second)), Reading(ts, "power_export", 0.0)]


def stored_seconds(url: str) -> list[int]:
    """The seconds (since START) of the stored power_import readings, in order."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT value FROM energy.readings WHERE metric = 'power_import' ORDER BY ts").fetchall()
    return [int(value) for (value,) in rows]


def test_batches_written_while_a_replay_runs_are_not_lost(db_url, tmp_path):
    spool = Spool(tmp_path / "dsmr.jsonl")
    for second in range(100):
        spool.append(batch(second))

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
    with spool.path.open("a") as handle:
        handle.write('[["2026-07-01T00:00:02+00:00","power_imp')  # killed mid-write
    writer = Writer(with_user(db_url, "energy_ingest"), "dsmr", tmp_path, NAMES)
    asyncio.run(writer.write(batch(3)))
    assert stored_seconds(db_url) == [1, 3]


def test_unknown_metrics_and_non_finite_values_are_dropped_not_spooled(db_url, tmp_path, caplog):
    writer = Writer(with_user(db_url, "energy_ingest"), "dsmr", tmp_path, NAMES)
    readings = [*batch(1), Reading(START, "power_import", float("nan")), Reading(START, "no_such_metric", 1.0)]
    asyncio.run(writer.write(readings))
    assert stored_seconds(db_url) == [1]
    assert not (tmp_path / "dsmr.jsonl").exists()
    assert caplog.text.count("dropping invalid reading") == 2
