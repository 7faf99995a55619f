"""make upgrade: a database of an older release, filled with data, is brought to the current migrations without
losing a row; a failing migration changes nothing and restarts nothing; on success the collectors, then the
dashboard, restart on the new code only after the migration committed."""

import shutil
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import sql

from db import migrate
from stack import services, units
from tests.database import metric_id, write

OLD = 2  # the first releases had the raw readings (0001) and the aggregates (0002)
START = datetime(2026, 1, 5, tzinfo=UTC)


@pytest.fixture
def old_release(empty_db_url, tmp_path):
    """A database as an older release left it: its migrations applied (the tables that hold data), filled with
    readings, aggregates, bookkeeping and a catalog entry of the user's own."""
    folder = tmp_path / "old-migrations"
    folder.mkdir()
    for migration in migrate.migrations()[:OLD]:
        shutil.copy(migration.path, folder)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        conn.execute(migrate.BOOKKEEPING)
        original, migrate.MIGRATIONS = migrate.MIGRATIONS, folder
        try:
            migrate.apply_migrations(conn, [])
        finally:
            migrate.MIGRATIONS = original
        fill(conn)
    return empty_db_url


def fill(conn) -> None:
    """Two days of readings every minute for two metrics and a year of hourly and daily aggregates."""
    ids = [metric_id(conn, "dsmr", "power_import"), metric_id(conn, "dsmr", "energy_import_t1")]
    for metric in ids:
        write(conn, metric, [(START + timedelta(minutes=m), 100.0 + m) for m in range(2 * 24 * 60)])
    for level, step in (("hour", "1 hour"), ("day", "1 day")):
        conn.execute(sql.SQL(
            "INSERT INTO energy.{} SELECT m, p, p + %(step)s::interval, 60, 6000, 100, 50, 150, 60, 140, p, "
            "p + interval '59 minutes', CASE WHEN m = %(counter)s THEN 1.5 END "
            "FROM unnest(%(ids)s::int[]) m, generate_series(%(start)s - interval '1 year', "
            "%(start)s - %(step)s::interval, %(step)s::interval) p").format(sql.Identifier(f"agg_{level}")),
            {"step": step, "counter": ids[1], "ids": ids, "start": START})
    conn.execute("UPDATE energy.agg_progress SET done_until = %s WHERE level IN ('hour', 'day')", (START,))
    conn.execute("INSERT INTO energy.metric (source, name, unit, kind, description) "
                 "VALUES ('dsmr', 'power_heat_pump', 'W', 'gauge', 'added by the user')")


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table of the energy schema (the raw readings through their parent), in the columns
    the table had before the upgrade."""
    with psycopg.connect(url) as conn:
        names = [name for (name,) in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'energy'::regnamespace AND relkind IN ('r', 'p') "
            "AND NOT relispartition ORDER BY 1")]
        rows = {}
        for name in names:
            columns = [column for (column,) in conn.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                "AND NOT attisdropped ORDER BY attnum", (f"energy.{name}",))]
            rows[name] = (columns, conn.execute(sql.SQL("SELECT {} FROM energy.{} ORDER BY 1, 2").format(
                sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(name))).fetchall())
    return rows


def rows_in(url: str, before: dict) -> dict[str, list[tuple]]:
    """The rows of the tables of a snapshot, in the snapshot's columns."""
    with psycopg.connect(url) as conn:
        return {name: conn.execute(sql.SQL("SELECT {} FROM energy.{} ORDER BY 1, 2").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(name))).fetchall()
                for name, (columns, _) in before.items()}


def versions(url: str) -> list[str]:
    """The applied migrations."""
    with psycopg.connect(url) as conn:
        return [version for (version,) in conn.execute("SELECT version FROM deploy.migration ORDER BY 1")]


class Recorder:
    """Stands in for the root shell: records each batch of commands with the migrations applied at that moment."""

    def __init__(self, url: str):
        self.url, self.calls = url, []

    def __call__(self, steps: list[str]) -> None:
        self.calls.append((steps, versions(self.url)))


def installed_units(tmp_path, monkeypatch) -> list[str]:
    """Pretend the services are installed (units generated for this configuration) and systemd runs."""
    monkeypatch.setenv("DSMR_HOST", "192.168.1.50")
    monkeypatch.setenv("SUN2000_HOST", "192.168.200.1")
    monkeypatch.delenv("FUSIONSOLAR_USER", raising=False)
    monkeypatch.setattr(units, "UNIT_DIR", tmp_path / "system")
    monkeypatch.setattr(services, "STAGING", tmp_path / "staging")
    monkeypatch.setattr(services.health, "systemd_running", lambda: True)
    monkeypatch.setattr(services, "database", lambda: ("", units.Database()))
    units.UNIT_DIR.mkdir()
    for name, text in units.generate(units.Database()).items():
        (units.UNIT_DIR / name).write_text(text)
    return services.health.installed_units()


def test_an_upgrade_from_an_older_release_loses_no_row(old_release):
    before = snapshot(old_release)
    assert len(before["raw_reading"][1]) == 2 * 2 * 24 * 60 and len(before["agg_hour"][1]) == 2 * 365 * 24

    services.upgrade(old_release, installed=[])

    assert versions(old_release) == [m.version for m in migrate.migrations()]
    after = rows_in(old_release, before)
    for name, (_, rows) in before.items():  # migrations may add catalog entries; they may remove none
        assert set(rows) <= set(after[name]), name
    for name in ("raw_reading", "agg_hour", "agg_day"):  # the measurements are exactly what they were
        assert after[name] == before[name][1]
    with psycopg.connect(old_release) as conn:  # the new objects work on the old data
        days = conn.execute("SELECT count(*) FROM energy.daily WHERE metric = 'energy_import_t1'").fetchone()[0]
    assert days == 365


def test_a_failing_migration_changes_nothing_and_restarts_nothing(old_release, tmp_path, monkeypatch):
    installed = installed_units(tmp_path, monkeypatch)
    folder = tmp_path / "new-migrations"
    shutil.copytree(migrate.MIGRATIONS, folder)
    (folder / "9999_broken.sql").write_text("-- a release whose last migration fails\nSELECT no_such_function();\n")
    monkeypatch.setattr(migrate, "MIGRATIONS", folder)
    before = snapshot(old_release)
    shell = Recorder(old_release)

    with pytest.raises(services.InstallError, match=r"no_such_function.*; upgrade stopped before restarting "
                                                    "anything"):
        services.upgrade(old_release, installed, run=shell)

    assert versions(old_release) == [m.version for m in migrate.migrations()[:OLD]]  # not even 0003
    assert snapshot(old_release) == before
    assert shell.calls == []  # not even the new unit files


def test_the_services_restart_only_after_the_migration_committed(old_release, tmp_path, monkeypatch):
    installed = installed_units(tmp_path, monkeypatch)
    shell = Recorder(old_release)

    services.upgrade(old_release, installed, run=shell)

    everything = [m.version for m in migrate.migrations()]
    assert shell.calls == [  # one batch, once every migration is in (the unit files did not change)
        (["systemctl restart brs5-energy-dsmr.service brs5-energy-sun2000.service",
          "systemctl restart brs5-energy-web.service"], everything),
    ]
