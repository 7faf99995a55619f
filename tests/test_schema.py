"""The raw-data schema: roles, duplicates, any timestamp accepted, partitions, and a plpgsql_check sweep."""

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from stack.settings import with_user

INSERT = """
INSERT INTO energy.raw_reading (ts, metric_id, value)
SELECT %s, id, %s FROM energy.metric WHERE source = 'dsmr' AND name = 'power_import'
ON CONFLICT DO NOTHING
"""


def test_the_same_reading_twice_is_stored_once(db):
    ts = datetime(2026, 5, 1, 12, tzinfo=UTC)
    db.execute(INSERT, (ts, 1500.0))
    db.execute(INSERT, (ts, 1500.0))
    assert db.execute("SELECT ts, value FROM energy.raw_reading").fetchall() == [(ts, 1500.0)]


@pytest.mark.parametrize("years", [-30, -3, 0, 5, 40])
def test_readings_of_any_date_are_stored(db, years):
    ts = datetime.now(UTC) + timedelta(days=365 * years)
    db.execute(INSERT, (ts, 42.0))
    assert db.execute("SELECT value FROM energy.readings WHERE ts = %s", (ts,)).fetchone() == (42.0,)


def test_not_a_number_is_refused(db):
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute(INSERT, (datetime.now(UTC), float("nan")))


def test_partitions_exist_for_today_and_the_coming_days_and_maintenance_is_idempotent(db):
    def partitions():
        return [name for (name,) in db.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'energy.raw_reading'::regclass ORDER BY 1")]

    today = db.execute("SELECT (now() AT TIME ZONE energy.time_zone())::date").fetchone()[0]
    expected = {f"raw_reading_{today + timedelta(days=d):%Y%m%d}" for d in range(-1, 8)}
    before = partitions()
    assert expected <= set(before)
    db.execute("CALL energy.create_raw_partitions()")
    assert partitions() == before


def test_a_new_partition_takes_over_readings_from_the_default_one(db):
    ts = datetime(2031, 3, 4, 10, tzinfo=UTC)
    db.execute(INSERT, (ts, 7.0))
    assert db.execute("SELECT count(*) FROM energy.raw_reading_default").fetchone() == (1,)
    db.execute("CALL energy.create_raw_partitions(%s, 0)", (ts,))
    assert db.execute("SELECT tableoid::regclass::text, value FROM energy.raw_reading").fetchall() == [
        ("energy.raw_reading_20310304", 7.0)]


def test_partitions_follow_the_local_day(db):
    db.execute("CALL energy.create_raw_partitions('2025-03-30 12:00+02', 0)")
    bounds = db.execute("SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'raw_reading_20250330'")
    assert bounds.fetchone()[0] == "FOR VALUES FROM ('2025-03-29 23:00:00+00') TO ('2025-03-30 22:00:00+00')"


def test_the_ingest_role_may_only_insert_readings_and_read_the_catalog(db_url):
    with psycopg.connect(with_user(db_url, "energy_ingest"), autocommit=True) as ingest:
        assert ingest.execute("SELECT count(*) FROM energy.metric").fetchone()[0] > 20
        ingest.execute(INSERT, (datetime.now(UTC), 1.0))
        for statement in ("DELETE FROM energy.raw_reading", "UPDATE energy.raw_reading SET value = 0",
                          "SELECT * FROM energy.agg_hour", "SELECT * FROM energy.daily",
                          "SELECT * FROM energy.raw_reading", "INSERT INTO energy.metric (source, name, unit, kind, "
                          "description) VALUES ('dsmr', 'x', '', 'gauge', '')", "CALL energy.aggregate_hours()"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                ingest.execute(statement)


def test_the_web_role_may_only_read_views(db_url, db):
    db.execute(INSERT, (datetime.now(UTC), 3.0))
    with psycopg.connect(with_user(db_url, "energy_web"), autocommit=True) as web:
        assert web.execute("SELECT value FROM energy.latest WHERE metric = 'power_import'").fetchone() == (3.0,)
        assert web.execute("SELECT count(*) FROM energy.today").fetchone()[0] == 1
        for statement in ("INSERT INTO energy.raw_reading VALUES (now(), 1, 1)", "DELETE FROM energy.raw_reading",
                          "SELECT * FROM energy.raw_reading", "SELECT * FROM energy.agg_day",
                          "UPDATE energy.settings SET time_zone = 'UTC'", "CALL energy.run_aggregations()",
                          "DELETE FROM energy.metric", "CREATE TABLE energy.mine (id int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                web.execute(statement)


def test_a_wrong_time_zone_is_refused(db):
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="Europe/Brusels"):
        db.execute("UPDATE energy.settings SET time_zone = 'Europe/Brusels'")


def test_every_plpgsql_function_passes_plpgsql_check(db):
    db.execute("CREATE EXTENSION IF NOT EXISTS plpgsql_check")
    routines = db.execute("""
        SELECT p.oid::regprocedure::text, p.prorettype = 'trigger'::regtype
        FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
        WHERE p.pronamespace = 'energy'::regnamespace AND l.lanname = 'plpgsql'""").fetchall()
    assert len(routines) >= 10
    # the work tables the procedures create for the length of a transaction
    db.execute("CREATE TEMP TABLE recomputed_hour AS SELECT * FROM energy.hour_aggregates(now(), now(), 'UTC')")
    db.execute("CREATE TEMP TABLE fresh_hour AS SELECT * FROM energy.hour_aggregates(now(), now(), 'UTC')")
    db.execute("CREATE TEMP TABLE merged_pair (metric_id integer, hour timestamptz)")
    db.execute("CREATE TEMP TABLE long_step (flow text, flow_id integer, source text, priority integer, "
               "gap_in double precision, gap_from timestamptz, gap_to timestamptz)")
    problems = []
    for routine, is_trigger in routines:
        # the trigger reads its transition table "inserted" of energy.raw_reading
        relid, newtable = ("energy.raw_reading", "inserted") if is_trigger else (0, None)
        rows = db.execute(
            "SELECT level, message, lineno FROM plpgsql_check_function_tb("
            "%s::regprocedure, %s::regclass, newtable => %s)", (routine, relid, newtable))
        problems += [(routine, *row) for row in rows if row[0] == "error"]
    assert problems == []


@pytest.mark.parametrize("moment", ["infinity", "-infinity"])
def test_a_reading_at_no_real_moment_is_refused(db, moment):
    with pytest.raises(psycopg.errors.CheckViolation, match="raw_reading_ts_finite"):
        db.execute("INSERT INTO energy.raw_reading SELECT %s, id, 1 FROM energy.metric LIMIT 1", (moment,))
