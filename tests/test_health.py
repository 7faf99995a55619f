"""Health for monitoring (GET /healthz) and people (make status): stale sources, failed jobs, waiting spools,
an old backup and an unreachable database are reported, each in one line, without naming hosts to strangers."""

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from stack import health
from stack.settings import ROOT, with_user
from tests.database import metric_id, write
from web import create_app

BATCH = '[["2026-01-01T00:00:00+00:00","power_import",1.0]]\n'  # one batch of one reading, as spooled


@pytest.fixture
def places(tmp_path, monkeypatch):
    """A spool with a waiting batch and a backup directory with a dump three days old."""
    spools, backups = tmp_path / "spool", tmp_path / "backups"
    spools.mkdir()
    backups.mkdir()
    (spools / "dsmr.jsonl").write_text(BATCH)
    dump = backups / "energy-20260101T033000Z.dump"
    dump.write_bytes(b"PGDMP" + bytes(2043))
    three_days_ago = (datetime.now(UTC) - timedelta(days=3)).timestamp()
    os.utime(dump, (three_days_ago, three_days_ago))
    monkeypatch.setenv("SPOOL_DIR", str(spools))
    monkeypatch.setenv("BACKUP_DIR", str(backups))
    return spools, backups


def seed(db) -> None:
    """A fresh meter and an inverter silent for five minutes."""
    now = datetime.now(UTC)
    write(db, metric_id(db, "dsmr", "power_import"), [(now - timedelta(seconds=3), 420.0)])
    write(db, metric_id(db, "sun2000", "power_active"), [(now - timedelta(minutes=5), 1800.0)])


def test_healthz_reports_every_part_and_what_needs_attention(db_url, db, places):
    seed(db)
    client = create_app({"DATABASE_URL": with_user(db_url, "energy_web"), "PASSWORD": "s3cret"}).test_client()

    response = client.get("/healthz")  # open without the password, for monitoring

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded" and body["database"] == "ok"
    assert {s["source"]: s["stale"] for s in body["sources"]} == {"dsmr": False, "sun2000": True}
    assert body["spools"] == {"dsmr.jsonl": len(BATCH)}
    assert body["backup"]["file"] == "energy-20260101T033000Z.dump" and body["backup"]["bytes"] == 2048
    assert 3 * 86400 - 60 < body["backup"]["age_seconds"] < 3 * 86400 + 60
    assert body["database_bytes"] > 1_000_000
    assert len(body["problems"]) == 2
    assert body["problems"][0].startswith("source sun2000 is stale (30") and body["problems"][1] == \
        "newest backup is 3.0 days old"


def test_healthz_without_the_database_names_no_host(places):
    client = create_app({"DATABASE_URL": "postgresql://energy_web@127.0.0.1:1/energy"}).test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"] == "unavailable" and body["spools"] == {"dsmr.jsonl": len(BATCH)}
    assert "127.0.0.1" not in response.get_data(as_text=True)


def status(env: dict) -> subprocess.CompletedProcess:
    """make status."""
    return subprocess.run([sys.executable, "-m", "stack.status"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60, check=False)


def test_make_status_prints_a_few_lines_and_fails_when_something_needs_attention(db_url, db, places):
    seed(db)
    result = status({"WEB_DATABASE_URL": with_user(db_url, "energy_web")})
    lines = result.stdout.splitlines()
    assert result.returncode == 1
    assert [line.split(":", 1)[0] for line in lines[:8]] == [
        "services", "sources", "jobs", "aggregation", "spools", "database", "backup", "status"]
    assert lines[0] in ("services:    systemd is not running here (not PID 1): no service state",
                        "services:    none installed")
    # the reading is 3 s old when written; the subprocess may take a few seconds more on a busy machine
    assert re.fullmatch(r"sources:     dsmr ([3-9]|1[0-9]) s ago, sun2000 5 min ago \(stale\)", lines[1]), lines[1]
    assert lines[4] == f"spools:      {places[0]}: dsmr.jsonl {len(BATCH)} B"
    assert lines[6] == "backup:      energy-20260101T033000Z.dump (2.0 kB), 3 d ago"
    assert lines[7] == "status:      degraded" and lines[9] == "  - newest backup is 3.0 days old"
    assert re.fullmatch(r"  - source sun2000 is stale \(3[0-2][0-9] s\)", lines[8]), lines[8]


def test_make_status_says_why_the_database_is_unreachable(places):
    result = status({"WEB_DATABASE_URL": "postgresql://energy_web@127.0.0.1:1/energy"})
    assert result.returncode == 1
    assert "database:    unavailable (connection failed: " in result.stdout
    assert f"dsmr.jsonl {len(BATCH)} B" in result.stdout


def test_failed_services_and_jobs_and_late_aggregation_are_problems_an_idle_backup_is_not():
    report = {
        "database": "ok", "backup": None, "sources": [],
        "services": {"brs5-energy-dsmr.service": "active", "brs5-energy-web.service": "failed",
                     "brs5-energy-backup.service": "inactive", "brs5-energy-backup.timer": "active"},
        "jobs": [{"job": "energy-hourly", "status": "succeeded", "message": "CALL"},
                 {"job": "energy-daily", "status": "failed", "message": "ERROR: out of disk space"}],
        "aggregation": [{"level": "hour", "late": True}, {"level": "day", "late": False}],
    }
    assert health.problems(report) == ["service brs5-energy-web.service is failed",
                                       "job energy-daily failed: ERROR: out of disk space",
                                       "hour aggregation is late"]
