"""make migrate: apply versioned migrations, refresh the repeatable objects of db/, install the pg_cron jobs.

Each migration runs in its own transaction that records it first; an advisory lock keeps two deployers apart;
a checksum refuses a migration edited after it was applied. The repeatable objects (functions, procedures,
views, grants) are re-applied together whenever any of them changed.
"""

import contextlib
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from db import cluster
from db.schedule import JOBS
from stack import cli, settings

MIGRATIONS = settings.ROOT / "migrations"
# Views are applied in file-name order: the number in front puts a view after those it reads.
REPEATABLE = [Path(__file__).parent / name for name in ("functions", "procedures", "triggers", "views", "grants.sql")]
LOCK_KEY = 0x62727335  # "brs5": one deployer at a time per database
PG_CRON_LINES = (
    "shared_preload_libraries = 'pg_cron'",
    "cron.database_name = 'postgres'   # or the energy database",
    "cron.use_background_workers = on",
)


class MigrationError(cli.ExpectedError):
    """The database cannot be migrated as it is."""


@dataclass(frozen=True)
class Migration:
    """One versioned migration file."""

    version: str
    path: Path

    @property
    def sql(self) -> str:
        """The file's text."""
        return self.path.read_text()

    @property
    def checksum(self) -> str:
        """What an applied migration must still hash to."""
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def migrations() -> list[Migration]:
    """The migrations in version order (NNNN_description.sql)."""
    paths = sorted(MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    return [Migration(path.stem.split("_", 1)[0], path) for path in paths]


def repeatable_files() -> list[Path]:
    """The repeatable SQL files, in the order they must be applied."""
    files = []
    for entry in REPEATABLE:
        files.extend(sorted(entry.glob("*.sql")) if entry.is_dir() else [entry])
    return files


def repeatable_checksum(files: list[Path]) -> str:
    """One checksum over every repeatable file and its name."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


BOOKKEEPING = """
CREATE SCHEMA IF NOT EXISTS deploy;
CREATE TABLE IF NOT EXISTS deploy.migration (
    version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS deploy.repeatable (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row), checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now());
"""


def require_pg_cron(conn: psycopg.Connection) -> str:
    """The database pg_cron runs in, or a MigrationError naming the postgresql.conf lines to add."""
    row = conn.execute("SELECT current_setting('cron.database_name', true)").fetchone()
    if not row or not row[0]:
        lines = "; ".join(PG_CRON_LINES)
        raise MigrationError(
            f"pg_cron is not loaded by this server: add to postgresql.conf ({lines}), restart it")
    return row[0]


def apply_migrations(conn: psycopg.Connection, report: list[str]) -> int:
    """Apply the pending migrations, one transaction each; refuse edited ones."""
    applied = dict(conn.execute("SELECT version, checksum FROM deploy.migration").fetchall())
    known = {migration.version for migration in migrations()}
    if unknown := sorted(set(applied) - known):
        raise MigrationError(
            f"the database has migrations this checkout does not know ({', '.join(unknown)}): it was migrated by a "
            "newer version; update this checkout before migrating")
    count = 0
    for migration in migrations():
        if migration.version in applied:
            if applied[migration.version] != migration.checksum:
                raise MigrationError(
                    f"migration {migration.path.name} was changed after it was applied: restore it and put the "
                    "change in a new migration")
            continue
        started = time.perf_counter()
        with conn.transaction():
            conn.execute("INSERT INTO deploy.migration (version, name, checksum) VALUES (%s, %s, %s)",
                         (migration.version, migration.path.name, migration.checksum))
            conn.execute(migration.sql)
        report.append(f"applied {migration.path.name} ({(time.perf_counter() - started) * 1000:.0f} ms)")
        count += 1
    if not count:
        report.append(f"migrations: none pending ({len(applied)} applied)")
    return count


# Every view, function and procedure of the energy schema that no extension owns: what the db/ files define, and what
# make migrate drops before applying them again. Columns: kind, name (for DROP), and the object's catalog and oid.
REBUILT = """
SELECT 'VIEW' AS kind, format('%I.%I', n.nspname, c.relname) AS name, 'pg_class'::regclass AS classid, c.oid AS objid
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'energy' AND c.relkind = 'v'
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, p.oid::regprocedure::text, 'pg_proc'::regclass,
       p.oid
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'energy' AND p.prokind IN ('f', 'p')
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
"""

DROP_REBUILT = """
DO $$
DECLARE
    v_object record;
BEGIN
    -- Names first, drops after: a CASCADE drop removes dependent views whose names could no longer be printed.
    FOR v_object IN SELECT * FROM ({rebuilt} OFFSET 0) named ORDER BY kind DESC
    LOOP
        EXECUTE format('DROP %s IF EXISTS %s CASCADE', v_object.kind, v_object.name);
    END LOOP;
END
$$;
"""

# What else the CASCADE of DROP_REBUILT would take outside the energy schema: a user's own view over energy.daily,
# a trigger calling an energy function, a column of a view's row type. Each as PostgreSQL describes it; a view by
# its name rather than by its rewrite rule.
OUTSIDE_DEPENDENTS = """
WITH rebuilt AS ({rebuilt}),
gone AS (  -- the objects and the row types of the views
    SELECT classid, objid FROM rebuilt
    UNION ALL
    SELECT 'pg_type'::regclass, t.oid FROM pg_type t JOIN rebuilt r ON r.classid = 'pg_class'::regclass
                                                                   AND t.typrelid = r.objid
),
dependent AS (
    SELECT d.classid, d.objid, d.objsubid,
           COALESCE(rule.ev_class, trigger.tgrelid, column_default.adrelid, check_or_key.conrelid,
                    CASE WHEN d.classid = 'pg_class'::regclass THEN d.objid END) AS relation
    FROM gone g
    JOIN pg_depend d ON d.refclassid = g.classid AND d.refobjid = g.objid AND d.deptype IN ('n', 'a')
    LEFT JOIN pg_rewrite rule ON d.classid = 'pg_rewrite'::regclass AND rule.oid = d.objid
    LEFT JOIN pg_trigger trigger ON d.classid = 'pg_trigger'::regclass AND trigger.oid = d.objid
    LEFT JOIN pg_attrdef column_default ON d.classid = 'pg_attrdef'::regclass AND column_default.oid = d.objid
    LEFT JOIN pg_constraint check_or_key ON d.classid = 'pg_constraint'::regclass AND check_or_key.oid = d.objid
    WHERE (d.classid, d.objid) NOT IN (SELECT classid, objid FROM gone)
)
SELECT DISTINCT CASE WHEN d.classid = 'pg_rewrite'::regclass AND c.relkind = 'v'
                     THEN format('view %I.%I', n.nspname, c.relname)
                     ELSE pg_describe_object(d.classid, d.objid, d.objsubid) END AS described
FROM dependent d
LEFT JOIN pg_class c ON c.oid = d.relation
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE COALESCE(n.nspname, (pg_identify_object(d.classid, d.objid, d.objsubid)).schema) IS DISTINCT FROM 'energy'
ORDER BY 1
"""


def rebuild_pending(conn: psycopg.Connection) -> bool:
    """Whether make migrate is about to rebuild the objects of db/: a migration is pending or a file changed."""
    applied = {version for (version,) in conn.execute("SELECT version FROM deploy.migration")}
    row = conn.execute("SELECT checksum FROM deploy.repeatable").fetchone()
    return (any(m.version not in applied for m in migrations())
            or row is None or row[0] != repeatable_checksum(repeatable_files()))


def check_dependents(conn: psycopg.Connection, drop: bool, report: list[str]) -> None:
    """Refuse to rebuild the objects of db/ while objects outside the energy schema depend on them (they would go
    with them, silently), unless told to drop them."""
    found = [name for (name,) in conn.execute(sql.SQL(OUTSIDE_DEPENDENTS).format(rebuilt=sql.SQL(REBUILT)))]
    if found and not drop:
        raise MigrationError(
            f"objects of your own depend on the views and functions that make migrate rebuilds, and would be dropped "
            f"with them: {'; '.join(found)}. Drop them first (keep their definitions to create them again "
            "afterwards), or run make migrate DROP_DEPENDENTS=1 (python -m db.migrate --drop-dependents) to drop them")
    if found:
        report.append(f"dropping objects of your own that depend on the rebuilt ones: {'; '.join(found)}")


def apply_repeatables(conn: psycopg.Connection, force: bool, report: list[str]) -> None:
    """Rebuild every repeatable object when any of them changed (or a migration ran), in one transaction: the
    old views, functions, procedures and their triggers are dropped first, so a view may change its columns and
    an object whose file is gone disappears."""
    files = repeatable_files()
    checksum = repeatable_checksum(files)
    row = conn.execute("SELECT checksum FROM deploy.repeatable").fetchone()
    if row and row[0] == checksum and not force:
        report.append(f"objects in db/: unchanged ({len(files)} files)")
        return
    with conn.transaction():
        # Bodies may name objects of files applied later (a function reading a view); plpgsql_check checks them.
        conn.execute("SET LOCAL check_function_bodies = off")
        conn.execute(sql.SQL(DROP_REBUILT).format(rebuilt=sql.SQL(REBUILT)))
        for path in files:
            try:
                conn.execute(path.read_text())
            except psycopg.Error as error:
                raise MigrationError(f"{path.relative_to(settings.ROOT)}: {error}") from error
        conn.execute("INSERT INTO deploy.repeatable (checksum) VALUES (%s) "
                     "ON CONFLICT (only_row) DO UPDATE SET checksum = excluded.checksum, applied_at = now()",
                     (checksum,))
    report.append(f"objects in db/: applied {len(files)} files")


def install_schedule(conn: psycopg.Connection, cron_database: str, report: list[str]) -> None:
    """Create or update the pg_cron jobs, from pg_cron's database when it is not this one."""
    here = conn.info.dbname
    if cron_database == here:
        cron_conn = conn
    else:
        params = conninfo_to_dict(conn.info.dsn)
        params["password"] = conn.info.password or params.get("password")
        cron_conn = psycopg.connect(make_conninfo(**{**params, "dbname": cron_database}), autocommit=True)
    try:
        cron_conn.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
        changed = 0
        for job in JOBS:
            database = cron_database if job.in_cron_database else here
            row = cron_conn.execute(
                "SELECT jobid, schedule, command, database FROM cron.job"
                " WHERE jobname = %s AND username = current_user",
                (job.name,)).fetchone()
            if row and row[1:] == (job.schedule, job.command, database):
                continue
            if row:
                cron_conn.execute("SELECT cron.alter_job(%s, %s, %s, %s)",
                                  (row[0], job.schedule, job.command, database))
            else:
                cron_conn.execute("SELECT cron.schedule_in_database(%s, %s, %s, %s)",
                                  (job.name, job.schedule, job.command, database))
            changed += 1
    finally:
        if cron_conn is not conn:
            cron_conn.close()
    report.append(f"pg_cron: {changed} of {len(JOBS)} jobs created or updated (in database {cron_database})")


def migrate(url: str, schedule: bool = True, atomic: bool = False, drop_dependents: bool = False) -> list[str]:
    """Bring the database at url up to date; returns what was done, one line per step. atomic: every pending
    migration and the objects of db/ in one transaction, so that a failure leaves the database as it was.
    drop_dependents: drop objects outside the energy schema that depend on the rebuilt ones, rather than refuse."""
    report: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        cron_database = require_pg_cron(conn)
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        with conn.transaction() if atomic else contextlib.nullcontext():
            if cron_database == conn.info.dbname:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")  # before the views that read its tables
            conn.execute(BOOKKEEPING)
            if rebuild_pending(conn):  # checked before any migration runs: a refusal changes nothing
                check_dependents(conn, drop_dependents, report)
            applied = apply_migrations(conn, report)
            apply_repeatables(conn, force=applied > 0, report=report)
            conn.execute("CALL energy.create_raw_partitions()")
        if schedule:
            install_schedule(conn, cron_database, report)
    return report


def main(argv: list[str] | None = None) -> int:
    """Migrate DATABASE_URL, or the local cluster (started for the occasion) when it is not set."""
    parser = cli.Parser(prog="python -m db.migrate", description="Bring the database up to date.")
    parser.add_argument("--drop-dependents", action="store_true",
                        help="drop objects outside the energy schema that depend on the views and functions being "
                             "rebuilt (by default make migrate refuses and names them)")
    args = parser.parse_args(argv)
    settings.load_dotenv()
    url = settings.setting("DATABASE_URL", settings.connection_url)
    local = None if url else cluster.local_cluster()
    started = local is not None and cluster.start(local)
    url = url or local.url()
    try:
        for line in migrate(url, drop_dependents=args.drop_dependents):
            print(line)
    except psycopg.OperationalError as error:
        raise MigrationError(f"cannot connect to {settings.redacted(url)}: {cli.one_line(error)}") from None
    except psycopg.Error as error:
        raise MigrationError(f"{settings.redacted(url)}: {cli.one_line(error)}") from None
    finally:
        if started:
            cluster.stop(local)
    return 0


if __name__ == "__main__":
    cli.run(main)
