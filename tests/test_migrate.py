"""Migration runner: idempotent, refuses edited migrations, reports what it did, clear errors."""

import os
import shutil
import subprocess
import sys
from datetime import date

import psycopg
import pytest

from db import migrate
from stack import settings
from tests.pg import admin, start_server, stop_server

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


@pytest.fixture
def objects(tmp_path, monkeypatch):
    """A copy of db/'s re-applied files that the test edits, as a newer checkout would."""
    copy = tmp_path / "db"
    copy.mkdir()
    for entry in migrate.REPEATABLE:
        (shutil.copytree if entry.is_dir() else shutil.copy)(entry, copy / entry.name)
    monkeypatch.setattr(migrate, "REPEATABLE", [copy / entry.name for entry in migrate.REPEATABLE])
    return copy


def columns(conn, view: str) -> list[tuple[str, str]]:
    """(name, type) of a relation's columns, in order."""
    return conn.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                        "WHERE attrelid = %s::regclass AND attnum > 0 ORDER BY attnum", (view,)).fetchall()


PROBE = "-- A view of the test.\nCREATE OR REPLACE VIEW energy.probe AS SELECT 1 AS kept, 'x'::text AS dropped;\n"
PROBE_READER = "-- A view over it.\nCREATE OR REPLACE VIEW energy.probe_reader AS SELECT kept FROM energy.probe;\n"


def test_a_view_whose_file_changes_its_columns_is_rebuilt_with_those_that_read_it(empty_db_url, objects):
    (objects / "views" / "50_probe.sql").write_text(PROBE)
    (objects / "views" / "60_probe_reader.sql").write_text(PROBE_READER)
    migrate.migrate(empty_db_url)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO energy.raw_reading SELECT now(), id, 1 FROM energy.metric WHERE name = 'tariff'")
    # a column dropped and one changing type: what CREATE OR REPLACE VIEW refuses
    (objects / "views" / "50_probe.sql").write_text(PROBE.replace("1 AS kept, 'x'::text AS dropped", "2.5 AS kept"))

    report = migrate.migrate(empty_db_url)

    assert report[1] == f"objects in db/: applied {len(migrate.repeatable_files())} files"
    with psycopg.connect(empty_db_url) as conn:
        assert columns(conn, "energy.probe") == [("kept", "numeric")]
        assert conn.execute("SELECT kept FROM energy.probe_reader").fetchall() == [(2.5,)]
        assert conn.execute("SELECT count(*) FROM energy.readings").fetchone() == (1,)  # tables keep their rows
    with psycopg.connect(settings.with_user(empty_db_url, "energy_web")) as web:  # grants follow the new view
        assert web.execute("SELECT kept FROM energy.probe").fetchall() == [(2.5,)]


def test_objects_whose_file_is_gone_are_dropped(empty_db_url, objects):
    (objects / "views" / "50_probe.sql").write_text(PROBE)
    (objects / "views" / "60_probe_reader.sql").write_text(PROBE_READER)
    (objects / "functions" / "probe.sql").write_text(
        "-- A function of the test.\nCREATE OR REPLACE FUNCTION energy.probe_twice(integer) RETURNS integer "
        "LANGUAGE sql AS 'SELECT 2 * $1';\n")
    (objects / "procedures" / "probe.sql").write_text(
        "-- A procedure of the test.\nCREATE OR REPLACE PROCEDURE energy.probe_nothing() LANGUAGE sql AS 'SELECT 1';\n")
    (objects / "triggers" / "probe.sql").write_text(
        "-- A trigger of the test.\nCREATE OR REPLACE FUNCTION energy.probe_refuse() RETURNS trigger "
        "LANGUAGE plpgsql AS 'BEGIN RAISE EXCEPTION ''refused''; END';\n"
        "CREATE OR REPLACE TRIGGER probe_refuse BEFORE UPDATE ON energy.settings "
        "FOR EACH ROW EXECUTE FUNCTION energy.probe_refuse();\n")
    migrate.migrate(empty_db_url)
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT energy.probe_twice(21), count(*) FROM energy.probe_reader "
                            "GROUP BY 1").fetchone() == (42, 1)
    for path in ("views/50_probe.sql", "views/60_probe_reader.sql", "functions/probe.sql", "procedures/probe.sql",
                 "triggers/probe.sql"):
        (objects / path).unlink()

    migrate.migrate(empty_db_url)

    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        found = conn.execute(
            "SELECT to_regclass('energy.probe'), to_regclass('energy.probe_reader'), "
            "to_regprocedure('energy.probe_twice(integer)'), to_regprocedure('energy.probe_nothing()'), "
            "to_regprocedure('energy.probe_refuse()'), "
            "(SELECT count(*) FROM pg_trigger WHERE tgname = 'probe_refuse')").fetchone()
        assert found == (None, None, None, None, None, 0)
        conn.execute("UPDATE energy.settings SET time_zone = 'Europe/Brussels'")  # no trigger refuses it
        assert conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'raw_reading_mark_late'").fetchone() == (1,)


def test_a_rebuild_of_the_objects_gives_back_the_same_schema(empty_db_url):
    migrate.migrate(empty_db_url)
    before = schema_dump(empty_db_url)  # grants included: a rebuilt view must be readable by the same roles
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        migrate.apply_repeatables(conn, force=True, report=[])
    # nothing a migration made depends on a re-applied object, so nothing went with them
    assert schema_dump(empty_db_url) == before


def test_a_database_migrated_by_a_newer_checkout_is_refused_in_one_line(empty_db_url):
    migrate.migrate(empty_db_url)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO deploy.migration (version, name, checksum) VALUES "
                     "('0042', '0042_from_a_newer_checkout.sql', 'x'), ('9999', '9999_even_newer.sql', 'y')")
        deployed = conn.execute("SELECT checksum, applied_at FROM deploy.repeatable").fetchone()
    before = schema_dump(empty_db_url)

    result = run_migrate({"DATABASE_URL": empty_db_url})

    assert result.returncode == 2
    assert result.stderr == ("error: the database has migrations this checkout does not know (0042, 9999): it was "
                             "migrated by a newer version; update this checkout before migrating\n")
    assert result.stdout == ""
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT checksum, applied_at FROM deploy.repeatable").fetchone() == deployed
    assert schema_dump(empty_db_url) == before


def test_objects_are_rebuilt_over_views_that_read_each_other(db_url):
    # Dropping a view drops the views that read it (CASCADE): the ones still listed must not become bare oids.
    with psycopg.connect(db_url, autocommit=True) as conn:
        report: list[str] = []
        migrate.apply_repeatables(conn, force=True, report=report)
        assert report == [f"objects in db/: applied {len(migrate.repeatable_files())} files"]
        assert conn.execute("SELECT count(*) FROM energy.costs").fetchone() == (0,)


# A psql user's own objects over the views and functions of db/: a view, a trigger, a column of a view's row type.
OWN_OBJECTS = """
CREATE VIEW public.my_report AS SELECT day, metric, delta FROM energy.daily;
CREATE SCHEMA mine;
CREATE TABLE mine.readings (ts timestamptz);
CREATE TRIGGER readings_notify AFTER INSERT ON mine.readings REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION energy.notify_live_readings();
CREATE TABLE mine.snapshots (taken date, day_row energy.daily);
INSERT INTO mine.snapshots (taken) VALUES ('2026-03-01');
"""
OWN_NAMED = ("column day_row of table mine.snapshots; trigger readings_notify on table mine.readings; "
             "view public.my_report")


def test_a_rebuild_refuses_to_drop_a_users_own_objects_and_names_them(db_url, objects):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(OWN_OBJECTS)
    before = schema_dump(db_url)
    daily = objects / "views" / "20_daily.sql"
    daily.write_text(daily.read_text() + "\n")  # touched: the objects of db/ are rebuilt

    with pytest.raises(migrate.MigrationError) as refused:
        migrate.migrate(db_url)

    assert str(refused.value) == (
        "objects of your own depend on the views and functions that make migrate rebuilds, and would be dropped with "
        f"them: {OWN_NAMED}. Drop them first (keep their "
        "definitions to create them again afterwards), or run make migrate DROP_DEPENDENTS=1 (python -m db.migrate "
        "--drop-dependents) to drop them")
    assert schema_dump(db_url) == before
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM public.my_report").fetchone() == (0,)
        assert conn.execute("SELECT taken, day_row FROM mine.snapshots").fetchall() == [(date(2026, 3, 1), None)]

    report = migrate.migrate(db_url, drop_dependents=True)

    assert report[0] == f"dropping objects of your own that depend on the rebuilt ones: {OWN_NAMED}"
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT to_regclass('public.my_report'), (SELECT count(*) FROM pg_trigger "
                            "WHERE tgname = 'readings_notify')").fetchone() == (None, 0)
        assert conn.execute("SELECT * FROM mine.snapshots").fetchall() == [(date(2026, 3, 1),)]  # the rest stays


def test_make_migrate_names_a_users_own_view_in_one_line_only_when_it_would_drop_it(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("CREATE VIEW public.my_report AS SELECT day, metric, delta FROM energy.daily")
    unchanged = run_migrate({"DATABASE_URL": db_url})
    assert (unchanged.returncode, unchanged.stderr) == (0, "")  # nothing to rebuild: nothing to refuse
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("DELETE FROM deploy.repeatable")  # as after a restore: every object of db/ is rebuilt

    refused = run_migrate({"DATABASE_URL": db_url})

    assert (refused.returncode, refused.stdout, len(refused.stderr.splitlines())) == (2, "", 1)
    assert refused.stderr.startswith("error: objects of your own depend on the views and functions that make migrate "
                                     "rebuilds, and would be dropped with them: view public.my_report. ")
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM public.my_report").fetchone() == (0,)
