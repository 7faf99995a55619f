"""make bench, the dashboard's part: every API endpoint's latency with 10 years of aggregates, the same with a
running hour of raw readings to add up, and the telegram-to-screen delay through the collector, the database's
notification, the live stream and a real browser."""

import socket
import statistics
import time
import urllib.request
from datetime import UTC, datetime

from ingest.simulators.household import Household
from ingest.simulators.p1 import telegram
from stack.settings import with_user
from tests.procs import start, stop

# Each endpoint the page calls, with the windows it opens on (today's, which reach the running hour) and past ones.
ENDPOINTS = (
    ("/api/live", "/api/live"), ("/api/today", "/api/today"), ("/api/capacity", "/api/capacity"),
    ("/api/status", "/api/status"), ("/healthz", "/healthz"),
    ("history: hours of today", "/api/history?level=hour"),
    ("history: days of this month", "/api/history?level=day"),
    ("history: twelve weeks to this one", "/api/history?level=week"),
    ("history: months of this year", "/api/history?level=month"),
    ("history: five years to this one", "/api/history?level=year"),
    ("history: hours of a past day", "/api/history?level=hour&date=2025-06-01"),
    ("history: days of a past month", "/api/history?level=day&date=2025-06-01"),
    ("history: months of a past year", "/api/history?level=month&date=2025-06-01"),
    ("history CSV: days of a past month", "/api/history.csv?level=day&date=2025-06-01"),
    ("costs: today", "/api/costs"),
    ("costs: hours of today", "/api/costs/history?level=hour"),
    ("costs: days of this month", "/api/costs/history?level=day"),
    ("costs: months of this year", "/api/costs/history?level=month"),
    ("costs: months of a past year", "/api/costs/history?level=month&date=2025-06-01"),
    ("costs: days of a past month", "/api/costs/history?level=day&date=2025-06-01"),
)
RUNNING = ("/api/today", "/api/history?level=hour", "/api/history?level=day", "/api/capacity", "/api/costs",
           "/api/costs/history?level=day")
# In the page: note when the grid's import text changes, after the frame that shows it is drawn.
OBSERVER = """() => {
  window.shown = [];
  const target = document.getElementById('import');
  new MutationObserver(() => {
    const text = target.textContent;
    requestAnimationFrame(() => window.shown.push([text, Date.now()]));
  }).observe(target, { childList: true, characterData: true, subtree: true });
}"""


def get_ms(url: str) -> float:
    """Milliseconds one GET takes, body included."""
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def percentiles(times: list[float]) -> tuple[float, float]:
    """p50 and p95."""
    return statistics.median(times), statistics.quantiles(times, n=20)[18]


def bench_endpoints(report, port: int, requests: int = 100) -> None:
    """p50 and p95 of every endpoint, one client at a time."""
    for name, path in ENDPOINTS:
        p50, p95 = percentiles([get_ms(f"http://127.0.0.1:{port}{path}") for _ in range(requests)])
        report(f"dashboard {name}: p50", p50, "ms", "")
        report(f"dashboard {name}: p95", p95, "ms", "p95 < 50 ms")


def bench_running_hour(report, conn, port: int, metrics: list[int], requests: int = 20) -> None:
    """The endpoints that add up the running hour, when it holds an hour of readings at 1 Hz (the engine computes
    it from raw readings at every request), then the database as it was."""
    done = conn.execute("SELECT done_until FROM energy.agg_progress WHERE level = 'hour'").fetchone()[0]
    conn.execute("""
        INSERT INTO energy.raw_reading (ts, metric_id, value)
        SELECT ts, m.id, CASE WHEN m.kind = 'counter' THEN 5000 + extract(epoch FROM ts - date_trunc('hour', now()))
                                                                 / 3600 ELSE random() * 5000 END
        FROM generate_series(date_trunc('hour', now()) - interval '59 minutes', now(), interval '1 second') ts
        CROSS JOIN energy.metric m WHERE m.id = ANY(%s)
        ON CONFLICT DO NOTHING""", (metrics,))
    conn.execute("UPDATE energy.agg_progress SET done_until = date_trunc('hour', now() - interval '59 minutes') "
                 "WHERE level = 'hour'")
    conn.execute("ANALYZE energy.raw_reading")
    try:
        for path in RUNNING:
            _, p95 = percentiles([get_ms(f"http://127.0.0.1:{port}{path}") for _ in range(requests)])
            report(f"dashboard {path}, a running hour of 1 Hz readings: p95", p95, "ms", "engine: running hour")
    finally:
        conn.execute("DELETE FROM energy.raw_reading WHERE ts >= date_trunc('hour', now()) - interval '59 minutes' "
                     "AND metric_id = ANY(%s)", (metrics,))
        conn.execute("UPDATE energy.agg_progress SET done_until = %s WHERE level = 'hour'", (done,))


def bench_delay(report, url: str, port: int, workdir, telegrams: int = 60) -> None:
    """Telegram-to-screen: a bridge sends a telegram a second, each with its own import power as a marker, to the
    DSMR collector; a headless Chromium shows the dashboard; the delay from sending to the frame that shows it."""
    from playwright.sync_api import sync_playwright

    listener = socket.create_server(("127.0.0.1", 0))
    collector = start("ingest.dsmr", "--host", "127.0.0.1", "--port", str(listener.getsockname()[1]),
                      "--database-url", with_user(url, "energy_ingest"), "--spool-dir", str(workdir / "delay-spool"),
                      "--log-level", "WARNING", log=workdir / "delay-dsmr.log")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                 args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(locale="en-GB")
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_function("() => window.Chart !== undefined && document.getElementById('import')")
            page.evaluate(OBSERVER)
            bridge, _ = listener.accept()
            house, sent = Household(now=datetime.now(UTC)), {}
            for marker in range(200, 200 + telegrams):
                time.sleep(1.05 - time.time() % 1)  # one a second, as the meter does (its time has whole seconds)
                house.now, house.power = datetime.now(UTC), (float(marker), 0.0)
                frame = telegram(house)
                sent[f"↓ {marker} W"] = time.time() * 1000
                bridge.sendall(frame)
            time.sleep(3)
            shown = {}
            for text, at in page.evaluate("() => window.shown"):
                shown.setdefault(text, at)
            browser.close()
        bridge.close()
    finally:
        stop(collector)
        listener.close()
    delays = [shown[text] - at for text, at in sent.items() if text in shown]
    report("telegrams shown by the browser", len(delays), f"of {telegrams}", "all")
    if len(delays) >= 2:
        p50, p95 = percentiles(delays)
        report("telegram-to-screen delay: p50", p50, "ms", "")
        report("telegram-to-screen delay: p95", p95, "ms", "p95 <= 1500 ms")
