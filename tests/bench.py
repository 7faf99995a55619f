"""make bench: figures for speed and size, printed (goals in brackets), never asserted.

Aggregation and dashboard latency run on 2 days of raw readings at 1 Hz for 30 metrics and 10 years of
aggregated history (flows and quarter hours included); the collectors run as real processes against their
simulators; the telegram-to-screen delay is measured in a real browser (tests/bench_web.py); the steady state of
the whole installation is measured on a server with durable commits (tests/bench_stack.py).
BENCH_STACK_SECONDS sets the length of each steady-state window (default 120); `python -m tests.bench stack`
runs that section alone.
"""

import asyncio
import os
import random
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import psycopg
from psycopg import sql

from db import migrate
from ingest.framer import Framer
from ingest.simulators.household import Household
from ingest.simulators.p1 import telegram
from ingest.spool import Reading, Spool
from ingest.writer import Writer
from stack.settings import with_user
from tests.bench_stack import bench_stack, installed_settings
from tests.bench_web import bench_delay, bench_endpoints, bench_running_hour, get_ms, percentiles
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
    """Ten years of aggregates before DAY - 1 (the flows and the quarter hours of the meter's demand and import
    power included), and raw readings of DAY - 1 and DAY."""
    ids = [row[0] for row in conn.execute("SELECT id FROM energy.metric ORDER BY id LIMIT %s", (METRICS,))]
    start, history = DAY - timedelta(days=1), DAY - timedelta(days=1) - timedelta(days=3653)
    conn.execute("CALL energy.create_raw_partitions(%s, 1)", (DAY,))
    started = time.perf_counter()
    conn.execute("""
        INSERT INTO energy.agg_hour
        SELECT m.id, h, h + interval '1 hour', 3600, 3600 * 500, 500, 0, 1000, 500, 500, h, h + interval '59 min',
               CASE WHEN m.kind IN ('counter', 'amount') THEN 0.5 END
        FROM generate_series(%s::timestamptz, %s::timestamptz - interval '1 hour', interval '1 hour') h
        CROSS JOIN energy.metric m WHERE m.id = ANY(%s)""", (history, start, ids))
    # what each counter's hours keep of their steps and state, read by every run that spreads a step
    conn.execute("""
        INSERT INTO energy.counter_hour (metric_id, period_start, rise, gap_in, gap_from, gap_to, gap_value, hwm,
                                         hwm_ts)
        SELECT m.id, h, 0.5, 0, h - interval '1 min', h, 0, 0, h + interval '59 min'
        FROM generate_series(%s::timestamptz, %s::timestamptz - interval '1 hour', interval '1 hour') h
        CROSS JOIN energy.metric m WHERE m.id = ANY(%s) AND m.kind = 'counter'""", (history, start, ids))
    load_flows(conn, history, start)
    conn.execute("""
        INSERT INTO energy.agg_quarter
        SELECT m.id, q, q + interval '15 minutes', 900, 900 * 500, 500, 0, 1000, 500, 500, q, q + interval '14 min'
        FROM generate_series(%s::timestamptz, %s::timestamptz - interval '15 minutes', interval '15 minutes') q
        CROSS JOIN energy.metric m WHERE m.source = 'dsmr' AND m.name IN ('power_import', 'demand_avg_quarter')""",
                 (history, start))
    for level in ("day", "week", "month"):
        conn.execute("CALL energy.recompute_level(%s, %s, %s, 'Europe/Brussels')", (level, history, start))
        # in time order, as the jobs append them one period at a time (their BRIN indexes count on it)
        table = sql.Identifier("energy", f"agg_{level}")
        conn.execute(sql.SQL("CREATE TEMP TABLE in_order AS SELECT * FROM {} ORDER BY period_start").format(table))
        conn.execute(sql.SQL("TRUNCATE {}").format(table))
        conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM in_order").format(table))
        conn.execute("DROP TABLE in_order")
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


def load_flows(conn, history: datetime, start: datetime) -> None:
    """The hourly flows of those ten years: a solar curve by the hour of the day, the rest from the grid."""
    conn.execute("""
        INSERT INTO energy.agg_hour (metric_id, period_start, period_end, n, sum, avg, min, max, first, last,
                                     first_ts, last_ts, delta)
        SELECT m.id, h, h + interval '1 hour', 1, v, v, v, v, v, v, h, h, v
        FROM generate_series(%s::timestamptz, %s::timestamptz - interval '1 hour', interval '1 hour') h
        CROSS JOIN energy.metric m
        CROSS JOIN LATERAL (SELECT extract(hour FROM h) AS hour) x
        CROSS JOIN LATERAL (SELECT CASE m.name
            WHEN 'produced' THEN greatest(0, 3 * sin(pi() * (x.hour - 5) / 14)) * random()
            WHEN 'imported_t1' THEN CASE WHEN x.hour BETWEEN 6 AND 20 THEN 0.6 * random() ELSE 0 END
            WHEN 'imported_t2' THEN CASE WHEN x.hour BETWEEN 6 AND 20 THEN 0 ELSE 0.5 * random() END
            WHEN 'exported_t1' THEN CASE WHEN x.hour BETWEEN 9 AND 16 THEN 1.5 * random() ELSE 0 END
            WHEN 'exported_t2' THEN 0
            ELSE 0.3 * random() END AS v) f
        WHERE m.source = 'flow'""", (history, start))


def bench_costs(url: str, conn) -> None:
    """energy.costs as the dashboard reads it (role energy_web): a year of days, a day of hours and a year of months
    over the ten years, for a fixed contract and for a dynamic one with hourly and quarter-hour market prices."""
    first, last = DAY - timedelta(days=3654), DAY - timedelta(days=1)
    conn.execute("""
        INSERT INTO energy.tariff (valid_from, prices_include_vat, vat_rate, import_day, import_night, export_day,
                                   export_night, gas_kwh, gas_m3_to_kwh, capacity_kw_year, fixed_year)
        VALUES (%s, true, 0.06, 0.35, 0.28, 0.04, 0.03, 0.09, 10.5, 53.25, 120)""", (first.date(),))
    queries = {"a year of days": ("day", "2025-01-01", "2026-01-01"),
               "a day of hours": ("hour", "2025-06-01", "2025-06-02"),
               "a year of months": ("month", "2025-01-01", "2026-01-01")}
    with psycopg.connect(with_user(url, "energy_web"), autocommit=True) as web:
        for contract in ("fixed", "dynamic"):
            if contract == "dynamic":
                switch_to_dynamic(conn, first, last)
            for what, (level, start, end) in queries.items():
                statement = ("SELECT * FROM energy.costs WHERE level = %s AND period_start >= %s::timestamp "
                             "AT TIME ZONE 'Europe/Brussels' AND period_start < %s::timestamp AT TIME ZONE "
                             "'Europe/Brussels'")
                times = [timed(web, statement, level, start, end) * 1000 for _ in range(50)]
                p50, p95 = percentiles(times)
                report(f"energy.costs, {contract} contract, {what}: p50", p50, "ms", "")
                report(f"energy.costs, {contract} contract, {what}: p95", p95, "ms", "p95 < 50 ms")


def switch_to_dynamic(conn, first: datetime, last: datetime) -> None:
    """Ten years of hourly day-ahead prices, quarter hours in the last year, and a dynamic contract for them."""
    quarters = last - timedelta(days=365)
    conn.execute("""
        INSERT INTO energy.market_price
        SELECT h, h + interval '1 hour', round((random() * 0.2 - 0.02)::numeric, 5)
        FROM generate_series(%s::timestamptz, %s::timestamptz - interval '1 hour', interval '1 hour') h""",
                 (first, quarters))
    conn.execute("""
        INSERT INTO energy.market_price
        SELECT q, q + interval '15 minutes', round((random() * 0.2 - 0.02)::numeric, 5)
        FROM generate_series(%s::timestamptz, %s::timestamptz - interval '15 minutes', interval '15 minutes') q""",
                 (quarters, last))
    conn.execute("""
        UPDATE energy.tariff SET prices_include_vat = false, import_day = NULL, import_night = NULL,
            export_day = NULL, export_night = NULL, import_market_factor = 1.08, import_market_add = 0.15,
            export_market_factor = 0.9, export_market_add = -0.01""")
    conn.execute("VACUUM ANALYZE energy.market_price")


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


def healthy(url: str) -> bool:
    """Whether the URL answers 200."""
    try:
        with urllib.request.urlopen(url) as response:
            return response.status == 200
    except OSError:
        return False


def concurrently(url: str, clients: int = 50, each: int = 20, every: float = 0.0) -> tuple[list[float], float]:
    """Latencies of clients that each send `each` requests, one every `every` seconds from a random start within
    the first interval (0: back to back, all starting together), and the requests answered per second."""
    begin = threading.Barrier(clients)

    def client(seed: int) -> list[float]:
        begin.wait()
        started, offset, times = time.perf_counter(), random.Random(seed).uniform(0, every), []
        for n in range(each):
            time.sleep(max(0.0, started + offset + n * every - time.perf_counter()))
            times.append(get_ms(url))
        return times

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        times = [ms for result in pool.map(client, range(clients)) for ms in result]
    return times, len(times) / (time.perf_counter() - started)


def bench_web(url: str, conn, metrics: list[int], workdir: Path) -> None:
    """Latency of every endpoint over real HTTP on the production server (one client at a time; then with a running
    hour to add up), 50 dashboards open at once (each asks for /api/live every 2 s, as a page that cannot have a
    live stream does), 50 clients sending requests back to back (the server's saturation), and the
    telegram-to-screen delay."""
    port = free_port()
    server = start("web", log=workdir / "web.log", WEB_PORT=str(port), WEB_DATABASE_URL=with_user(url, "energy_web"))
    try:
        wait_for(lambda: healthy(f"http://127.0.0.1:{port}/healthz"), what="the dashboard")
        bench_endpoints(report, port)
        bench_running_hour(report, conn, port, metrics)
        live = f"http://127.0.0.1:{port}/api/live"
        times, _ = concurrently(live, each=10, every=2.0)
        report("dashboard /api/live, 50 dashboards polling every 2 s: p50", percentiles(times)[0], "ms", "")
        report("dashboard /api/live, 50 dashboards polling every 2 s: p95", percentiles(times)[1], "ms", "p95 < 50 ms")
        times, rate = concurrently(live)
        report("dashboard /api/live, 50 clients back to back: p95", percentiles(times)[1], "ms", "")
        report("dashboard /api/live, 50 clients back to back: throughput", rate, "req/s", "")
        bench_delay(report, url, port, workdir)
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


def framer_rate(data: bytes, chunk: int = 65536) -> float:
    """MB per second a fresh framer takes in, fed as the collector reads (64 kB at a time)."""
    framer = Framer()
    started = time.perf_counter()
    for offset in range(0, len(data), chunk):
        framer.feed(data[offset:offset + chunk])
    return len(data) / 2**20 / (time.perf_counter() - started)


def bench_framer(size: int = 20 << 20) -> None:
    """Framer throughput on 20 MB of good telegrams and of several kinds of garbage (goal: 20 MB in < 2 s)."""
    house, good = Household(now=datetime(2026, 6, 1, 10, tzinfo=UTC)), bytearray()
    while len(good) < size:
        house.advance(1.0)
        good += telegram(house)
    header = b"/FLU5\\253769484_A\r\n\r\n"
    for what, data in (("good telegrams", bytes(good)),
                       ("random bytes", random.Random(1).randbytes(size)),
                       ("'/' only", b"/" * size),
                       ("identification lines without end", header * (size // len(header))),
                       ("telegram starts with 9 kB bodies", (header + b"0" * 9000) * (size // 9020))):
        report(f"framer on 20 MB of {what}", framer_rate(data), "MB/s", ">= 10 MB/s")


def bench_replay(url: str, workdir: Path, readings: int = 100_000) -> None:
    """Readings replayed from the spool per second (telegram-sized batches of 20)."""
    names = ["power_import", "current_l1", "voltage_l1", "voltage_l2", "voltage_l3"]
    spool = Spool(workdir / "replay" / "dsmr.jsonl")
    first = datetime(2026, 7, 1, tzinfo=UTC)
    for second in range(readings // len(names)):
        spool.append([Reading(first + timedelta(seconds=second), name, float(second % 500)) for name in names])
    spool.close()  # the writer takes the spool over, as a restarted collector would
    writer = Writer(with_user(url, "energy_ingest"), "dsmr", workdir / "replay", set(names))
    started = time.perf_counter()
    done = asyncio.run(writer.replay())
    elapsed = time.perf_counter() - started
    report("spool replay rate", readings / elapsed if done else 0, "/s", ">= 20,000 readings/s")


def bench_sun2000(url: str, workdir: Path, polls: int = 100) -> None:
    """CPU per poll of the full register set (24 strings, meter, battery: 4 requests), and a poll's duration."""
    port, since = free_port(), datetime.now(UTC)
    simulator = start("ingest.simulators.sun2000", "--port", str(port), "--strings", "24", "--meter", "--battery",
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
        report("SUN2000 collector CPU per poll (4 requests, 96 fields)", used / polls * 1000, "ms", "< 5 ms")
        report("SUN2000 poll duration (4 requests, 50 ms pause after each)", elapsed / polls * 1000, "ms", "")
        report("SUN2000 collector peak resident memory", peak_rss_mb(process.pid), "MB", "")
    finally:
        stop(process)
        stop(simulator)


def bench_fluvius(server, workdir: Path) -> None:
    """Rows per second of python -m ingest.fluvius's path (parse and write) for three years of quarter hours, on an
    empty database of its own (best of three), and for importing the same file again."""
    from ingest import fluvius
    from tests.exports import quarters, write

    rows = quarters(datetime(2023, 1, 1, tzinfo=UTC), datetime(2025, 12, 31, 22, 45, tzinfo=UTC))
    path = write(workdir / "Verbruikshistoriek_elektriciteit_kwartiertotalen.csv", "nl", rows)
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE fluvius_bench")
    url = server.url(database="fluvius_bench")
    migrate.migrate(url, schedule=False)
    times = []
    with psycopg.connect(url, autocommit=True) as owner:
        for _ in range(3):
            owner.execute("TRUNCATE energy.raw_reading")
            started = time.perf_counter()
            fluvius.import_files(with_user(url, "energy_ingest"), [path])
            times.append(time.perf_counter() - started)
    report(f"Fluvius import, {len(rows):,} quarter-hour rows, empty database", len(rows) / min(times), "rows/s",
           ">= 50,000 rows/s")
    started = time.perf_counter()
    fluvius.import_files(with_user(url, "energy_ingest"), [path])
    report("Fluvius import of the same file again (nothing new)", len(rows) / (time.perf_counter() - started),
           "rows/s", "")
    with psycopg.connect(url, autocommit=True) as owner:
        now = datetime(2026, 1, 2, 3, tzinfo=UTC)
        report("aggregating three years of imported quarter hours, empty database",
               timed(owner, "CALL energy.run_aggregations(%s)", now), "s", "< 60 s")
        # again, into a database that already has a month of live meter data aggregated (the late-data path)
        owner.execute("TRUNCATE energy.raw_reading, energy.agg_hour, energy.agg_day, energy.agg_week, "
                      "energy.agg_month, energy.counter_hour, energy.stale_period")
        owner.execute("UPDATE energy.agg_progress SET done_until = NULL")
        owner.execute("""
            INSERT INTO energy.raw_reading
            SELECT ts, m.id, 1000 + extract(epoch FROM ts - '2025-12-01Z') / 3600 * 0.4
            FROM generate_series('2025-12-01Z'::timestamptz, '2026-01-02Z', interval '1 minute') ts
            JOIN energy.metric m ON m.source = 'dsmr' AND m.name LIKE 'energy_%%'""")
        owner.execute("CALL energy.run_aggregations(%s)", (now,))
        fluvius.import_files(with_user(url, "energy_ingest"), [path])
        report("aggregating three years of imported quarter hours, with live data",
               timed(owner, "CALL energy.run_aggregations(%s)", now + timedelta(hours=1)), "s", "< 60 s")


def main(sections: list[str]) -> None:
    """Run every benchmark on throwaway servers (python -m tests.bench stack: only the steady state)."""
    os.environ["ENV_FILE"] = os.devnull  # the developer's .env (a dashboard password) must not change the figures
    if sections != ["stack"]:
        bench_framer()
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
            metrics = load(conn)
            bench_aggregation(conn)
            bench_costs(url, conn)
            bench_web(url, conn, metrics, workdir)
            bench_dsmr(url, workdir)
            bench_replay(url, workdir)
            bench_sun2000(url, workdir)
            bench_fluvius(server, workdir)
    finally:
        stop_server(server, base)


if __name__ == "__main__":
    main(sys.argv[1:])
