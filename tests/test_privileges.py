"""No application role can reach the owner's rights: the attacks a hostile dashboard or collector would try."""

import contextlib

import psycopg
import pytest

from stack.settings import with_user

# The first wave's escalation: a view of the attacker's, read through a SECURITY DEFINER function that takes a
# relation; then the same through query_to_xml and security_invoker views over the raw table.
STOLEN = "CREATE TEMP VIEW stolen WITH (security_invoker) AS SELECT rolname, rolpassword FROM pg_authid"
ATTACKS = (
    "SELECT * FROM pg_temp.stolen",
    "SELECT * FROM energy.rollup('pg_temp.stolen'::regclass, 'day', '-infinity', 'infinity', 'UTC')",
    "SELECT * FROM energy.rollup('hour', 'day', '-infinity', 'infinity', 'UTC', 'infinity') r, pg_authid",
    "SELECT query_to_xml('SELECT rolpassword FROM pg_authid', true, false, '')",
    "SELECT query_to_xml('SELECT cron.schedule(''x'', ''* * * * *'', ''ALTER ROLE energy_web SUPERUSER'')', "
    "true, false, '')",
    "SELECT cron.schedule('x', '* * * * *', 'ALTER ROLE energy_web SUPERUSER')",
    "SELECT * FROM pg_authid",
    "CALL energy.recompute_level('day', '-infinity', 'infinity', 'UTC')",
    "SELECT * FROM energy.counter_walk('-infinity', 'infinity', 'UTC')",
    "SELECT energy.mark_late_readings()",
    "ALTER FUNCTION energy.hour_aggregates(timestamptz, timestamptz, text) OWNER TO energy_web",
    "SET ROLE energy_engine",
)


@pytest.mark.parametrize("role", ["energy_web", "energy_ingest"])
@pytest.mark.parametrize("attack", ATTACKS)
def test_application_roles_cannot_reach_more_rights(db_url, role, attack):
    with psycopg.connect(with_user(db_url, role), autocommit=True) as conn:
        if "stolen" in attack:
            with contextlib.suppress(psycopg.Error):
                conn.execute(STOLEN)
        with pytest.raises(psycopg.Error) as error:
            conn.execute(attack)
        assert isinstance(error.value, psycopg.errors.InsufficientPrivilege | psycopg.errors.UndefinedFunction
                          | psycopg.errors.UndefinedTable | psycopg.errors.InvalidSchemaName
                          | psycopg.errors.FeatureNotSupported | psycopg.errors.ObjectNotInPrerequisiteState
                          | psycopg.errors.WrongObjectType), error.value
        assert not conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]


def test_every_security_definer_function_is_owned_by_a_plain_role_and_takes_no_names_or_sql(db):
    rows = db.execute("""
        SELECT p.oid::regprocedure::text, r.rolname, r.rolsuper, r.rolcanlogin,
               (SELECT array_agg(format_type(t, NULL)) FROM unnest(p.proargtypes) t), p.prosrc
        FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner
        WHERE p.pronamespace = 'energy'::regnamespace AND p.prosecdef""").fetchall()
    assert {row[0].split("(")[0] for row in rows} == {
        "energy.time_zone", "energy.hour_aggregates", "energy.hour_flows", "energy.mark_late_readings",
        "energy.quarter_aggregates"}
    for name, owner, superuser, can_login, types, source in rows:
        assert (owner, superuser, can_login) == ("energy_engine", False, False), name
        assert not set(types or []) & {"regclass", "regproc", "regprocedure", "oid", "name"}, name
        assert "EXECUTE" not in source.upper().replace("EXECUTE FUNCTION", ""), name


def test_the_web_role_reads_the_running_hour_through_the_views_only(db_url, db):
    db.execute("INSERT INTO energy.raw_reading SELECT now() - interval '1 minute', id, 42 FROM energy.metric "
               "WHERE source = 'dsmr' AND name = 'power_import'")
    with psycopg.connect(with_user(db_url, "energy_web"), autocommit=True) as web:
        assert web.execute("SELECT n, max FROM energy.today WHERE metric = 'power_import'").fetchone() == (1, 42.0)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            web.execute("SELECT * FROM energy.counter_hour")
