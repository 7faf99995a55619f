"""Backups: a dump restored into an empty database gives back every row that cannot be rebuilt (catalog,
settings, aggregates, whatever table later releases add to the energy schema), working views and grants; the raw
readings only when asked; the nightly backup keeps the newest N; a non-empty database is never overwritten."""

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import sql

from db import migrate
from stack import backup
from stack.settings import ROOT, with_user
from tests.database import metric_id, write

START = datetime(2026, 3, 1, tzinfo=UTC)


def fill(db) -> None:
    """Three weeks of readings of three metrics every ten minutes, aggregated; a catalog entry and a setting of
    the user's own."""
    for (source, name), rate in ((("dsmr", "energy_import_t1"), 0.4), (("sun2000", "energy_yield_total"), 1.5),
                                 (("dsmr", "power_import"), None)):
        steps = range(0, 21 * 24 * 6)
        values = [1000 + rate * step / 6 if rate else 300 + step % 17 * 50 for step in steps]
        write(db, metric_id(db, source, name), [(START + timedelta(minutes=10 * s), v) for s, v in zip(steps, values,
                                                                                                   strict=True)])
    db.execute("CALL energy.run_aggregations(%s)", (START + timedelta(days=21, hours=1),))  # keeps 21 March raw
    db.execute("INSERT INTO energy.metric (source, name, unit, kind, description) "
               "VALUES ('dsmr', 'power_heat_pump', 'W', 'gauge', 'added by the user')")
    db.execute("UPDATE energy.settings SET time_zone = 'Europe/Amsterdam'")


def tables(conn) -> list[str]:
    """Every table of the energy schema that holds rows of its own (the raw readings through their parent)."""
    return [name for (name,) in conn.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'energy'::regnamespace AND c.relkind IN ('r', 'p') "
        "AND NOT c.relispartition ORDER BY 1")]


def content(url: str) -> dict[str, list[tuple]]:
    """Every row of every table of the energy schema, the applied migrations and the identity counters."""
    with psycopg.connect(url) as conn:
        rows = {name: conn.execute(sql.SQL("SELECT * FROM energy.{} ORDER BY 1, 2").format(
            sql.Identifier(name))).fetchall() for name in tables(conn)}
        rows["deploy.migration"] = conn.execute("SELECT version, checksum FROM deploy.migration ORDER BY 1").fetchall()
        rows["sequences"] = conn.execute("SELECT sequencename, last_value FROM pg_sequences "
                                         "WHERE schemaname = 'energy' ORDER BY 1").fetchall()
    return rows


def cli(*args: str, url: str) -> subprocess.CompletedProcess:
    """python -m stack.backup as make backup and make restore run it."""
    return subprocess.run([sys.executable, "-m", "stack.backup", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": url}, timeout=120, check=False)


def dumped(result: subprocess.CompletedProcess) -> str:
    """The file a dump reported."""
    assert result.returncode == 0, result.stderr
    return result.stdout.split("backup: ", 1)[1].split(" (", 1)[0]


@pytest.mark.parametrize("raw", [False, True])
def test_backup_then_restore_into_an_empty_database_gives_everything_back(db, db_url, empty_db_url, tmp_path, raw):
    fill(db)
    before = content(db_url)
    assert len(before["agg_hour"]) > 1000 and len(before["raw_reading"]) > 400

    file = dumped(cli("dump", "--dir", str(tmp_path), *(["--raw"] if raw else []), url=db_url))
    restored = cli("restore", file, url=empty_db_url)

    assert restored.returncode == 0, restored.stderr
    after = content(empty_db_url)
    if not raw:  # the raw readings are left out unless asked for; everything else comes back
        assert after.pop("raw_reading") == []
        before.pop("raw_reading")
    assert after == before
    with psycopg.connect(with_user(empty_db_url, "energy_web")) as conn:  # views and grants re-created
        days = dict(conn.execute("SELECT day, delta FROM energy.daily WHERE metric = 'energy_import_t1' "
                                 "AND day BETWEEN '2026-03-02' AND '2026-03-20'").fetchall())
    assert len(days) == 19 and all(delta == pytest.approx(0.4 * 24) for delta in days.values())


def test_restore_refuses_a_database_that_is_not_empty(db, db_url, tmp_path):
    fill(db)
    file = dumped(cli("dump", "--dir", str(tmp_path), url=db_url))
    before = content(db_url)

    result = cli("restore", file, url=db_url)

    assert result.returncode == 2
    assert result.stderr.startswith("error: database ") and "is not empty" in result.stderr
    assert content(db_url) == before


def test_nightly_keeps_the_newest_and_only_its_own_files(db_url, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    for day in range(4):
        backup.dump(db_url, tmp_path, now=START + timedelta(days=day))
    removed = backup.prune(tmp_path, keep=2)
    assert [p.name for p in removed] == ["energy-20260301T000000Z.dump", "energy-20260302T000000Z.dump"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "energy-20260303T000000Z.dump", "energy-20260304T000000Z.dump", "notes.txt"]


def test_a_failed_dump_leaves_no_file_that_looks_complete(tmp_path):
    with pytest.raises(backup.BackupError, match="pg_dump failed"):
        backup.dump("postgresql://nobody@127.0.0.1:1/energy", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_dump_of_a_newer_release_or_not_a_dump_is_refused(db_url, empty_db_url, tmp_path, monkeypatch):
    file = backup.dump(db_url, tmp_path)
    older = tmp_path / "older"
    older.mkdir()
    for migration in migrate.migrations()[:2]:
        shutil.copy(migration.path, older)
    monkeypatch.setattr(migrate, "MIGRATIONS", older)  # this checkout knows only the first two migrations
    with pytest.raises(backup.BackupError, match=r"the dump comes from a newer release \(migrations 0003, "):
        backup.restore(empty_db_url, file)

    text = tmp_path / "notes.dump"
    text.write_text("not a dump\n")
    result = cli("restore", str(text), url=empty_db_url)
    assert result.returncode == 2
    assert result.stderr.startswith("error: pg_restore failed: pg_restore: error: input file does not appear to be "
                                    "a valid archive")
    assert len(result.stderr.splitlines()) == 1
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT to_regnamespace('energy')").fetchone()[0] is None



def test_a_dump_of_a_database_that_is_down_says_why_not_the_hint(tmp_path):
    # libpq's reason comes first, its hint ("Is the server running ...?") on the next line: the line kept is the error
    with pytest.raises(backup.BackupError) as refused:
        backup.dump("postgresql://postgres@127.0.0.1:1/energy", tmp_path)
    assert str(refused.value).startswith(
        'pg_dump failed: pg_dump: error: connection to server at "127.0.0.1", port 1 failed')
