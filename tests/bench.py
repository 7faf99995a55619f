"""make bench: figures for speed and size, printed (goals in brackets), never asserted.

Aggregation and dashboard latency run on 2 days of raw readings at 1 Hz for 30 metrics and 10 years of
aggregated history; the collectors run as real processes against their simulators; the steady state of the
whole installation is measured on a server with durable commits (tests/bench_stack.py).
BENCH_STACK_SECONDS sets the length of each steady-state window (default 120); `python -m tests.bench stack`
runs that section alone.
"""

import asyncio
import os
import statistics
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import psycopg

from db import migrate
from ingest.simulators.household import Household
from ingest.simulators.p1 import telegram
from ingest.spool import Reading, Spool
from ingest.writer import Writer
from stack.settings import with_user
from tests.bench_stack import bench_stack, healthy, installed_settings
from tests.pg import start_server, stop_server
from tests.procs import free_port, start, stop, wait_for

DAY = datetime(2026, 1, 15, tzinfo=UTC) - timedelta(hours=1)  # local midnight in Brussels (winter)
METRICS = 30


def report(what: str, value: float, unit: str, goal: str) -> None:
    """One figure per line."""
    print(f"{what:<58} {value:>10.3f} {unit:<8} [{goal}]", flush=True)


def timed(conn, statement: str, *params) -> float:
    """Seconds one statement takes."""
    started = time.perf_counter()
    conn.execute(statement, params)
    return time.perf_counter() - started


def load(conn) -> list[int]:
    """Ten years of aggregates before DAY - 1, and raw readings of DAY - 1 and DAY."""
    ids = [row[0] for row in conn.execute("SELECT id FROM energy.metric ORDER BY id LIMIT %s", (METRICS,))]
    start, history = DAY - timedelta(days=1), DAY - timedelta(days=1) - timedelta(days=3653)
    conn.execute("CALL energy.create_raw_partitions(%s, 1)", (DAY,))
    started = time.perf_counter()
    conn.execute("""
        INSERT INTO energy.agg_hour
        SELECT m.id, h, h + interval '1 hour', 3600, 3600 * 500, 500, 0, 1000, 500, 500, h, h + interval '59 min',
               CASE WHEN m.kind = 'counter' THEN 0.5 END
        FROM generate_series(%s::timestamptz, %s::timestamptz - interval '1 hour', interval '1 hour') h
        CROSS JOIN energy.metric m WHERE m.id = ANY(%s)""", (history, start, ids))
    for level, source in (("day", "hour"), ("week", "day"), ("month", "day")):
        conn.execute("CALL energy.recompute_level(%s, %s, %s, %s, %s, 'Europe/Brussels')",
                     (level, f"energy.agg_{level}", f"energy.agg_{source}", history, start))
    conn.execute("UPDATE energy.agg_progress SET done_until = %s WHERE level IN ('hour', 'day')", (start,))
    conn.execute("UPDATE energy.agg_progress SET done_until = date_trunc(level, %s::timestamptz, 'Europe/Brussels') "
                 "WHERE level IN ('week', 'month')", (start,))
    print(f"loaded 10 years of aggregates in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    conn.execute("""
        INSERT INTO energy.raw_reading (ts, metric_id, value)
        SELECT ts, m.id, CASE WHEN m.kind = 'counter' THEN extract(epoch FROM ts - %s) / 3600 ELSE random() * 5000 END
        FROM generate_series(%s::timestamptz, %s::timestamptz - interval '1 second', interval '1 second') ts
        CROSS JOIN energy.metric m WHERE m.id = ANY(%s)""", (start, start, DAY + timedelta(days=1), ids))
    conn.execute("VACUUM ANALYZE")
    rows = conn.execute("SELECT count(*) FROM energy.raw_reading").fetchone()[0]
    print(f"loaded {rows:,} raw readings in {time.perf_counter() - started:.0f} s", flush=True)
    return ids


def bench_aggregation(conn) -> None:
    """Catch-up of a day, a steady-state run, the cleanup, and raw storage per day."""
    size = conn.execute("SELECT pg_total_relation_size(%s)", (f"energy.raw_reading_{DAY:%Y%m%d}",)).fetchone()[0]
    report(f"raw storage per day ({METRICS} metrics at 1 Hz, table and indexes)", size / 2**20, "MB", "< 120 MB")
    catch_up = timed(conn, "CALL energy.run_aggregations(%s)", DAY + timedelta(minutes=5))
    report("catch-up of one full day (24 hours, then the day)", catch_up, "s", "< 15 s")
    steady = timed(conn, "CALL energy.run_aggregations(%s)", DAY + timedelta(hours=1, minutes=5))
    report("steady-state run (one new hour)", steady, "s", "< 0.5 s")
    conn.execute("CALL energy.aggregate_hours(%s)", (DAY + timedelta(days=1, minutes=5),))
    conn.execute("CALL energy.refresh_level('day', %s)", (DAY + timedelta(days=1, minutes=5),))
    cleanup = timed(conn, "CALL energy.cleanup_raw(%s)", DAY + timedelta(days=1, minutes=10))
    report("cleanup of one day of raw data (partition dropped)", cleanup, "s", "< 0.2 s")


def percentiles(url: str, n: int = 200) -> tuple[float, float]:
    """p50 and p95 latency of n GET requests, in ms."""
    times = []
    for _ in range(n):
        started = time.perf_counter()
        with urllib.request.urlopen(url) as response:
            response.read()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[18]


def bench_web(url: str, workdir: Path) -> None:
    """Latency of the live figures and of a year of months, over real HTTP."""
    port = free_port()
    server = start("web", log=workdir / "web.log", WEB_PORT=str(port), WEB_DATABASE_URL=with_user(url, "energy_web"))
    try:
        wait_for(lambda: healthy(f"http://127.0.0.1:{port}/healthz"), what="the dashboard")
        for name, path in (("/api/live", "/api/live"), ("a year of months", "/api/history?level=month&date=2025-06-01"),
                           ("a month of days", "/api/history?level=day&date=2025-06-01"),
                           ("the hours of a day", "/api/history?level=hour&date=2025-06-01")):
            p50, p95 = percentiles(f"http://127.0.0.1:{port}{path}")
            report(f"dashboard {name}: p50", p50, "ms", "")
            report(f"dashboard {name}: p95", p95, "ms", "p95 < 50 ms")
    finally:
        stop(server)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # clock ticks: 100 a second on Linux


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def stored(url: str, source: str, metric: str, since: datetime) -> int:
    """Readings of one metric stored since a moment (the loaded history holds older ones)."""
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM energy.readings WHERE source = %s AND metric = %s AND ts >= %s",
                            (source, metric, since)).fetchone()[0]


def bench_dsmr(url: str, workdir: Path, telegrams: int = 1000) -> None:
    """CPU and memory of the DSMR collector per 1,000 telegrams, parse and write."""
    import socket

    since = datetime(2026, 6, 1, 10, tzinfo=UTC)
    house = Household(now=since)
    frames = []
    for _ in range(telegrams):
        house.advance(1.0)
        frames.append(telegram(house))
    listener = socket.create_server(("127.0.0.1", 0))
    process = start("ingest.dsmr", "--host", "127.0.0.1", "--port", str(listener.getsockname()[1]), "--database-url",
                    with_user(url, "energy_ingest"), "--spool-dir", str(workdir / "spool"), "--log-level", "WARNING",
                    log=workdir / "dsmr.log")
    try:
        client, _ = listener.accept()
        time.sleep(1.0)  # imports and connection done
        before = cpu_seconds(process.pid)
        for frame in frames:
            client.sendall(frame)
        wait_for(lambda: stored(url, "dsmr", "power_import", since) >= telegrams, timeout=120, every=0.5,
                 what="every telegram stored")
        used = cpu_seconds(process.pid) - before
        report("DSMR collector CPU per telegram (parse and write)", used / telegrams * 1000, "ms", "< 2 ms")
        report("DSMR collector peak resident memory", peak_rss_mb(process.pid), "MB", "< 80 MB")
    finally:
        stop(process)
        listener.close()


def bench_replay(url: str, workdir: Path, readings: int = 100_000) -> None:
    """Readings replayed from the spool per second (telegram-sized batches of 20)."""
    names = ["power_import", "current_l1", "voltage_l1", "voltage_l2", "voltage_l3"]
    spool = Spool(workdir / "replay" / "dsmr.jsonl")
    first = datetime(2026, 7, 1, tzinfo=UTC)
    for second in range(readings // len(names)):
        spool.append([Reading(first + timedelta(seconds=second), name, float(second % 500)) for name in names])
    writer = Writer(with_user(url, "energy_ingest"), "dsmr", workdir / "replay", set(names))
    started = time.perf_counter()
    done = asyncio.run(writer.replay())
    elapsed = time.perf_counter() - started
    report("spool replay rate", readings / elapsed if done else 0, "/s", ">= 20,000 readings/s")


def bench_sun2000(url: str, workdir: Path, polls: int = 100) -> None:
    """CPU per poll of the full register set, and the duration of a poll, against the simulator."""
    port, since = free_port(), datetime.now(UTC)
    simulator = start("ingest.simulators.sun2000", "--port", str(port), "--meter", "--battery",
                      "--log-level", "WARNING", log=workdir / "sim.log")
    process = start("ingest.sun2000", "--host", "127.0.0.1", "--port", str(port), "--database-url",
                    with_user(url, "energy_ingest"), "--spool-dir", str(workdir / "spool"), "--interval", "0.01",
                    "--connect-delay", "0.5", "--log-level", "WARNING", log=workdir / "sun2000.log")
    try:
        wait_for(lambda: stored(url, "sun2000", "power_active", since) >= 5, what="first polls")
        before, first = cpu_seconds(process.pid), stored(url, "sun2000", "power_active", since)
        started = time.perf_counter()
        wait_for(lambda: stored(url, "sun2000", "power_active", since) >= first + polls, timeout=120, what="polls")
        elapsed = time.perf_counter() - started
        used = cpu_seconds(process.pid) - before
        report("SUN2000 collector CPU per poll (5 requests, decode, write)", used / polls * 1000, "ms", "< 5 ms")
        report("SUN2000 poll duration (5 requests, 50 ms pause after each)", elapsed / polls * 1000, "ms", "")
        report("SUN2000 collector peak resident memory", peak_rss_mb(process.pid), "MB", "")
    finally:
        stop(process)
        stop(simulator)


def main(sections: list[str]) -> None:
    """Run every benchmark on throwaway servers (python -m tests.bench stack: only the steady state)."""
    if sections != ["stack"]:
        bench_engine()
    server, base = start_server(durable=True, options=installed_settings())
    try:
        migrate.migrate(server.url())  # with its pg_cron jobs, which run when their minute comes
        with TemporaryDirectory() as tmp:
            bench_stack(server.url(), server.server_pid, Path(tmp), report,
                        seconds=float(os.environ.get("BENCH_STACK_SECONDS", "120")))
    finally:
        stop_server(server, base)


def bench_engine() -> None:
    """Aggregation, dashboard latency and the collectors on a server loaded with history."""
    server, base = start_server()
    try:
        url = server.url()
        migrate.migrate(url, schedule=False)
        with TemporaryDirectory() as tmp, psycopg.connect(url, autocommit=True) as conn:
            workdir = Path(tmp)
            load(conn)
            bench_aggregation(conn)
            bench_web(url, workdir)
            bench_dsmr(url, workdir)
            bench_replay(url, workdir)
            bench_sun2000(url, workdir)
    finally:
        stop_server(server, base)


if __name__ == "__main__":
    main(sys.argv[1:])
