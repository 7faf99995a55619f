"""Migration runner: idempotent, refuses edited migrations, reports what it did, clear errors."""

import os
import shutil
import subprocess
import sys

import psycopg
import pytest

from db import migrate
from stack import settings
from tests.conftest import admin
from tests.pg import start_server, stop_server

SCHEMA_DUMP = ["--schema-only", "--no-owner", "--schema=energy", "--schema=deploy"]


def schema_dump(url: str) -> str:
    """The schema of the database as pg_dump prints it."""
    from db.cluster import bindir

    dump = subprocess.run([str(bindir() / "pg_dump"), *SCHEMA_DUMP, url], capture_output=True, text=True,
                          check=True).stdout
    # \restrict lines carry a random key that differs on every dump
    return "\n".join(line for line in dump.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))


def test_second_migration_applies_nothing_and_keeps_the_schema(empty_db_url):
    first = migrate.migrate(empty_db_url)
    assert any(line.startswith("applied 0001_raw_readings.sql") for line in first)
    assert "objects in db/: applied" in " ".join(first)
    before = schema_dump(empty_db_url)

    second = migrate.migrate(empty_db_url)

    assert second[0] == f"migrations: none pending ({len(migrate.migrations())} applied)"
    assert second[1].startswith("objects in db/: unchanged")
    assert second[2].startswith("pg_cron: 0 of")
    assert schema_dump(empty_db_url) == before


def test_jobs_are_scheduled_in_the_cron_database_for_this_database(empty_db_url, pg_server):
    migrate.migrate(empty_db_url)
    database = psycopg.conninfo.conninfo_to_dict(empty_db_url)["dbname"]
    with admin(pg_server) as conn:
        jobs = dict(conn.execute("SELECT jobname, database FROM cron.job").fetchall())
    for name in ("energy-hourly", "energy-daily", "energy-weekly", "energy-monthly"):
        assert jobs[name] == database
    assert jobs["energy-cron-history"] == "test"


def test_an_edited_applied_migration_is_refused(empty_db_url, tmp_path, monkeypatch):
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, copy)
    monkeypatch.setattr(migrate, "MIGRATIONS", copy)
    migrate.migrate(empty_db_url)
    edited = copy / "0001_raw_readings.sql"
    edited.write_text(edited.read_text() + "\n-- an afterthought\n")

    with pytest.raises(migrate.MigrationError, match=r"0001_raw_readings\.sql was changed after it was applied"):
        migrate.migrate(empty_db_url)


def test_a_failing_migration_leaves_nothing_half_applied(empty_db_url, tmp_path, monkeypatch):
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, copy)
    (copy / "9999_broken.sql").write_text("CREATE TABLE energy.half (id int);\nSELECT no_such_function();\n")
    monkeypatch.setattr(migrate, "MIGRATIONS", copy)

    with pytest.raises(psycopg.errors.UndefinedFunction):
        migrate.migrate(empty_db_url)

    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT to_regclass('energy.half')").fetchone()[0] is None
        versions = [v for (v,) in conn.execute("SELECT version FROM deploy.migration ORDER BY 1")]
    assert versions == [m.version for m in migrate.migrations() if m.version != "9999"]


def run_migrate(env: dict) -> subprocess.CompletedProcess:
    """Run `python -m db.migrate` as make migrate does, with the given settings."""
    return subprocess.run([sys.executable, "-m", "db.migrate"], cwd=settings.ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "ENV_FILE": os.devnull, **env}, timeout=60, check=False)


def test_a_bad_database_url_gets_one_clear_line(pg_server):
    result = run_migrate({"DATABASE_URL": "postgresql://nobody:secret@127.0.0.1:1/energy"})
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot connect to postgresql://nobody:***@127.0.0.1:1/energy")
    assert "secret" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_server_without_pg_cron_is_told_the_lines_to_add():
    server, base = start_server(preload_cron=False)
    try:
        result = run_migrate({"DATABASE_URL": server.url()})
    finally:
        stop_server(server, base)
    assert result.returncode == 2
    assert "pg_cron is not loaded by this server" in result.stderr
    assert "shared_preload_libraries = 'pg_cron'" in result.stderr


def test_objects_are_rebuilt_over_views_that_read_each_other(db_url):
    # Dropping a view drops the views that read it (CASCADE): the ones still listed must not become bare oids.
    with psycopg.connect(db_url, autocommit=True) as conn:
        report: list[str] = []
        migrate.apply_repeatables(conn, force=True, report=report)
        assert report == [f"objects in db/: applied {len(migrate.repeatable_files())} files"]
        assert conn.execute("SELECT count(*) FROM energy.costs").fetchone() == (0,)
