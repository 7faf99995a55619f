"""The health of an installation, as JSON for GET /healthz and as a few lines for make status: each service's
state, each source's last reading, the last run of each job, how far aggregation got, the spools, the newest
backup and the database size. The database part reads views only, so the dashboard's role can build it."""

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from stack import postgres, settings, units

BACKUP_LATE = 2 * 86400  # a nightly backup older than two days means the timer is not running or failing


def systemd_running() -> bool:
    """Whether systemd manages this machine (the test sd_booted() makes)."""
    return Path("/run/systemd/system").is_dir()


def installed_units() -> list[str]:
    """The installation's units in the systemd directory, services and timer first, the target last."""
    found = (p.name for p in units.UNIT_DIR.glob(f"{units.USER}*") if p.suffix in (".service", ".timer", ".target"))
    return sorted(found, key=lambda name: (name.endswith(".target"), name))


def watched_units() -> list[str]:
    """The installation's units, and the dedicated PostgreSQL cluster's when the installation uses it."""
    installed = installed_units()
    if installed and postgres.CONF_DIR.exists() and postgres.is_ours(settings.text("DATABASE_URL")):
        return [*installed, postgres.UNIT]
    return installed


def service_states(names: list[str]) -> dict[str, str] | None:
    """systemctl is-active of each unit, or None when systemd is not running here."""
    if not names:
        return {}
    if not systemd_running():
        return None
    result = subprocess.run(["systemctl", "is-active", *names], capture_output=True, text=True, check=False)
    return dict(zip(names, result.stdout.split(), strict=False))


def spool_dir() -> Path:
    """Where the collectors spool: SPOOL_DIR, else the services' state directory once installed, else the
    collectors' default in the checkout."""
    if configured := settings.text("SPOOL_DIR"):
        return settings.ROOT / configured
    return units.SPOOL_DIR if installed_units() else settings.ROOT / ".local" / "spool"


def backup_dir() -> Path:
    """Where make backup and the nightly backup write: BACKUP_DIR, else as spool_dir() decides."""
    if configured := settings.text("BACKUP_DIR"):
        return settings.ROOT / configured
    return units.BACKUP_DIR if installed_units() else settings.ROOT / ".local" / "backups"


def files(directory: Path, pattern: str) -> list[tuple[str, int, float]]:
    """(name, bytes, modification time) of the files matching pattern, oldest first; none when unreadable."""
    try:
        found = [(p.name, p.stat()) for p in directory.glob(pattern)]
    except OSError:
        return []
    return sorted(((name, stat.st_size, stat.st_mtime) for name, stat in found), key=lambda f: f[2])


def human(size: float) -> str:
    """Bytes as B, kB, MB or GB."""
    for unit in ("B", "kB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def problems(report: dict) -> list[str]:
    """What needs attention, one line each."""
    found = []
    if report["database"] != "ok":
        found.append(f"database {report['database']}")
    for name, state in (report["services"] or {}).items():
        if state != "active" and not (name.endswith("-backup.service") and state == "inactive"):
            found.append(f"service {name} is {state}")
    found += [f"source {s['source']} is stale ({s['age_seconds']:.0f} s)" for s in report["sources"] if s["stale"]]
    found += [f"job {j['job']} failed: {j['message']}" for j in report["jobs"] if j["status"] == "failed"]
    found += [f"{a['level']} aggregation is late" for a in report["aggregation"] if a["late"]]
    if report["backup"] and report["backup"]["age_seconds"] > BACKUP_LATE:
        found.append(f"newest backup is {report['backup']['age_seconds'] / 86400:.1f} days old")
    return found


def report(fetch: Callable[[str], list[dict]], spools: Path, backups: Path, units_installed: list[str],
           explain: bool = False) -> dict:
    """The health; fetch(name) runs one named query of web/queries.sql and returns its rows as dicts.
    explain adds why the database is unavailable (not for an open endpoint: it names hosts and roles)."""
    newest = files(backups, "energy-*.dump")[-1:]
    result = {
        "services": service_states(units_installed),
        "spools": {name: size for name, size, _ in files(spools, "*.jsonl")},
        "backup": {"file": newest[0][0], "bytes": newest[0][1], "age_seconds": round(time.time() - newest[0][2])}
                  if newest else None,
        "database": "ok", "database_bytes": None, "sources": [], "jobs": [], "aggregation": [],
    }
    try:
        result["database_bytes"] = fetch("database_size")[0]["bytes"]
        result |= {"sources": fetch("sources"), "jobs": fetch("job_runs"), "aggregation": fetch("aggregation")}
    except psycopg.Error as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        result["database"] = f"unavailable ({reason})" if explain else "unavailable"
    result["problems"] = problems(result)
    result["status"] = "degraded" if result["problems"] else "ok"
    return result
