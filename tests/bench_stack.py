"""make bench, steady state: the whole installation (both collectors, the dashboard, PostgreSQL with durable
commits) with both simulators at their real rates (a telegram a second, a poll every 10 s), first with nobody
watching, then with one dashboard open in a browser. Figures: CPU seconds per hour and memory of each process.

Memory is resident (RSS) and proportional (PSS: shared pages divided among the processes sharing them); the
total is the sum of PSS, because PostgreSQL's processes share its buffers and summing their RSS would count
those once per process."""

import os
import threading
import time
import urllib.request
from pathlib import Path

from stack.settings import ROOT, with_user
from tests.procs import free_port, start, stop, wait_for

TICKS = os.sysconf("SC_CLK_TCK")
CLUSTER_CONF = ROOT / "stack" / "templates" / "postgresql.conf"
# What the dashboard's page asks for and how often (web/static/js/app.js), in seconds; the live figures come on a
# stream it keeps open (/api/live/stream).
PAGE = (("/api/today", 60), ("/api/history?level=hour", 60), ("/api/capacity", 60), ("/api/status", 10))
STREAM = "/api/live/stream"


def installed_settings() -> tuple[str, ...]:
    """The server settings make install gives its cluster (pg_cron's own are the test server's already)."""
    pairs = (line.partition("=") for line in CLUSTER_CONF.read_text().splitlines() if not line.startswith("#"))
    return tuple(f"{name.strip()}={value.strip()}" for name, sep, value in pairs
                 if sep and not name.strip().startswith(("cron.", "shared_preload_libraries")))


def stat(pid: int) -> list[str]:
    """The fields of /proc/pid/stat after the command name."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu(pid: int, children: bool = False) -> float:
    """CPU seconds of a process (and of its children already reaped)."""
    fields = stat(pid)
    used = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return used / TICKS


def memory(pid: int) -> tuple[float, float]:
    """Resident and proportional set size in MB."""
    rollup = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
    return int(rollup["Rss"].split()[0]) / 1024, int(rollup["Pss"].split()[0]) / 1024


def family(pid: int) -> list[int]:
    """The process and its live children (PostgreSQL's backends and workers)."""
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(stat(int(entry.name))[1]) == pid:
                    kids.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return [pid, *kids]


def postgres_cpu(pid: int) -> float:
    """CPU seconds of the server: the postmaster, its reaped children, its live children."""
    total = cpu(pid, children=True)
    for child in family(pid)[1:]:
        try:
            total += cpu(child)
        except FileNotFoundError:
            continue
    return total


def postgres_memory(pid: int) -> tuple[float, float, int]:
    """RSS and PSS summed over the server's processes, and how many there are."""
    rss = pss = 0.0
    members = family(pid)
    for member in members:
        try:
            r, p = memory(member)
        except FileNotFoundError:
            continue
        rss, pss = rss + r, pss + p
    return rss, pss, len(members)


class Dashboard(threading.Thread):
    """A browser tab left open on the dashboard: the page's requests on the page's schedule."""

    def __init__(self, base: str):
        super().__init__(daemon=True)
        self.base, self.stopped = base, threading.Event()

    def follow(self) -> None:
        """Read the live stream as the browser does, until stopped."""
        with urllib.request.urlopen(self.base + STREAM, timeout=60) as response:
            while not self.stopped.is_set() and response.readline():
                pass

    def run(self) -> None:
        """Follow the live stream and request each path when its time comes, until stopped."""
        threading.Thread(target=self.follow, daemon=True).start()
        due = dict.fromkeys(path for path, _ in PAGE)
        while not self.stopped.is_set():
            now = time.monotonic()
            for path, every in PAGE:
                if due[path] is None or now >= due[path]:
                    due[path] = now + every
                    with urllib.request.urlopen(self.base + path, timeout=10) as response:
                        response.read()
            self.stopped.wait(0.2)


def measure(processes: dict[str, int], server_pid: int, seconds: float) -> dict[str, tuple[float, float, float]]:
    """name -> (CPU seconds per hour, RSS MB, PSS MB) over a window of seconds."""
    before = {name: cpu(pid) for name, pid in processes.items()} | {"PostgreSQL": postgres_cpu(server_pid)}
    time.sleep(seconds)  # the window being measured: real time is the point here
    after = {name: cpu(pid) for name, pid in processes.items()} | {"PostgreSQL": postgres_cpu(server_pid)}
    figures = {}
    for name, pid in processes.items():
        figures[name] = ((after[name] - before[name]) * 3600 / seconds, *memory(pid))
    rss, pss, count = postgres_memory(server_pid)
    figures[f"PostgreSQL ({count} processes)"] = ((after["PostgreSQL"] - before["PostgreSQL"]) * 3600 / seconds,
                                                 rss, pss)
    return figures


def print_figures(title: str, figures: dict, report) -> None:
    """One line per process, then the totals against the goals."""
    print(f"{title}:", flush=True)
    for name, (cpu_per_hour, rss, pss) in figures.items():
        print(f"  {name:<28} CPU {cpu_per_hour:7.1f} s/h   RSS {rss:6.1f} MB   PSS {pss:6.1f} MB", flush=True)
    total_cpu = sum(f[0] for f in figures.values())
    report(f"{title}: CPU, all processes", total_cpu / 36, "% core", "< 1 % of one core")
    report(f"{title}: memory (sum of PSS)", sum(f[2] for f in figures.values()), "MB", "< 250 MB")


def bench_stack(url: str, server_pid: int, workdir: Path, report, seconds: float = 120, warm_up: float = 30) -> None:
    """Steady state of the whole stack, nobody watching and then one dashboard open."""
    dsmr_port, sun2000_port, web_port = free_port(), free_port(), free_port()
    ingest, web = with_user(url, "energy_ingest"), with_user(url, "energy_web")
    simulators = [start("ingest.simulators.dsmr_bridge", log=workdir / "bridge.log", SIMULATOR_PORT=str(dsmr_port)),
                  start("ingest.simulators.sun2000", "--meter", log=workdir / "inverter.log",
                        SIMULATOR_PORT=str(sun2000_port))]
    quiet = {"LOG_LEVEL": "WARNING", "SPOOL_DIR": str(workdir / "spool")}
    stack = {
        "DSMR collector": start("ingest.dsmr", log=workdir / "dsmr.log", DSMR_HOST="127.0.0.1",
                                DSMR_PORT=str(dsmr_port), INGEST_DATABASE_URL=ingest, **quiet),
        "SUN2000 collector": start("ingest.sun2000", log=workdir / "sun2000.log", SUN2000_HOST="127.0.0.1",
                                   SUN2000_PORT=str(sun2000_port), INGEST_DATABASE_URL=ingest, **quiet),
        "dashboard": start("web", log=workdir / "web.log", WEB_PORT=str(web_port), WEB_DATABASE_URL=web, **quiet),
    }
    dashboard = Dashboard(f"http://127.0.0.1:{web_port}")
    try:
        wait_for(lambda: healthy(f"http://127.0.0.1:{web_port}/healthz"), what="the dashboard")
        time.sleep(warm_up)  # imports done, connections open, first polls stored
        pids = {name: process.pid for name, process in stack.items()}
        print_figures(f"steady state, nobody watching ({seconds:.0f} s)", measure(pids, server_pid, seconds), report)
        dashboard.start()
        time.sleep(5)
        print_figures(f"steady state, one dashboard open ({seconds:.0f} s)", measure(pids, server_pid, seconds),
                      report)
    finally:
        dashboard.stopped.set()
        for process in [*stack.values(), *simulators]:
            stop(process)


def healthy(url: str) -> bool:
    """Whether the URL answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False
