"""make status: the health of the installation (stack/health.py) in a few lines; exit status 1 when something
needs attention, so that a cron job or a monitoring script can use it."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from stack import cli, health, services, settings


def fetcher(url: str) -> Callable[[str], list[dict]]:
    """A function running one named dashboard query per call, each on a short connection of its own."""
    from web.db import QUERIES

    def fetch(name: str) -> list[dict]:
        """The rows of one named query."""
        with psycopg.connect(url, connect_timeout=5, row_factory=dict_row) as conn:
            return conn.execute(QUERIES[name]).fetchall()

    return fetch


def ago(seconds: float | None) -> str:
    """An age in the largest unit that fits."""
    if seconds is None:
        return "never"
    seconds = max(seconds, 0)  # a meter's clock a little ahead of ours
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return f"{seconds:.0f} s ago"


def since(moment: datetime | None) -> float | None:
    """Seconds from a moment to now."""
    return (datetime.now(UTC) - moment).total_seconds() if moment else None


def lines(report: dict, spools: Path) -> list[str]:
    """The report, one line per part."""
    services_state = report["services"]
    if services_state is None:
        service_line = "systemd is not running here (not PID 1): no service state"
    else:
        service_line = ", ".join(f"{name} {state}" for name, state in services_state.items()) or "none installed"
    sources = [f"{s['source']} {ago(s['age_seconds'])}{' (stale)' if s['stale'] else ''}" for s in report["sources"]]
    jobs = [f"{j['job']} {j['status']} {ago(since(j['start_time']))}" for j in report["jobs"]]
    levels = [f"{a['level']} until {a['done_until']:%Y-%m-%d %H:%M %Z}" if a["done_until"] else f"{a['level']} not yet"
              for a in report["aggregation"]]
    waiting = [f"{name} {health.human(size)}" for name, size in report["spools"].items()]
    backup = report["backup"]
    return [
        f"services:    {service_line}",
        f"sources:     {', '.join(sources) or 'no reading yet'}",
        f"jobs:        {', '.join(jobs) or 'no run yet, or pg_cron lives in another database'}",
        f"aggregation: {', '.join(levels)}",
        f"spools:      {spools}: {', '.join(waiting) or 'empty'}",
        "database:    " + (health.human(report["database_bytes"]) if report["database"] == "ok"
                           else report["database"]),
        "backup:      " + (f"{backup['file']} ({health.human(backup['bytes'])}), {ago(backup['age_seconds'])}"
                           if backup else "none"),
        f"status:      {report['status']}", *(f"  - {problem}" for problem in report["problems"]),
    ]


def main() -> int:
    """Print the status."""
    cli.no_arguments("python -m stack.status", "make status: what runs, how fresh the data is, what needs "
                     "attention (exit 1 when something does).")
    services.load_configuration()
    url = settings.database_url("energy_web")
    spools = health.spool_dir()
    report = health.report(fetcher(url), spools, health.backup_dir(), health.watched_units(), explain=True)
    print("\n".join(lines(report, spools)))
    return 0 if report["status"] == "ok" else 1


if __name__ == "__main__":
    cli.run(main)
