"""make backup, make restore and the nightly backup: a pg_dump of everything that cannot be rebuilt.

A dump (pg_dump custom format) holds the schemas energy and deploy: the catalog, the settings, tariffs and prices,
the aggregates, imported history, and which migrations are applied; the raw readings only when asked (RAW=1),
since the daily cleanup keeps two days of them anyway. pg_cron cannot take it: its jobs run SQL inside the server,
and a dump needs pg_dump, a program, whose file must land on this machine even when the server is another one.
So the nightly backup is a systemd timer (brs5-energy-backup.timer) running `python -m stack.backup nightly`.
"""

import os
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from db import migrate
from stack import cli, health, services, settings
from stack.system import PG_MAJOR

NAME = "energy-{:%Y%m%dT%H%M%SZ}.dump"  # UTC, so names sort by time across daylight saving changes
RAW_TABLES = "energy.raw_reading*"  # the partitioned table and its day partitions
# The roles are cluster-wide: a new server lacks them although the restored bookkeeping says 0001 made them.
ROLES = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'energy_ingest') THEN CREATE ROLE energy_ingest LOGIN; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'energy_web') THEN CREATE ROLE energy_web LOGIN; END IF;
END
$$;
"""


class BackupError(cli.ExpectedError):
    """A dump or a restore cannot be made."""


def program(name: str) -> str:
    """A PostgreSQL client program: from PG_BINDIR (the server's version), else from PATH."""
    path = Path(settings.text("PG_BINDIR", f"/usr/lib/postgresql/{PG_MAJOR}/bin")) / name
    found = str(path) if path.exists() else shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install postgresql-client-{PG_MAJOR} or set PG_BINDIR")
    return found


def run(command: list[str], url: str | None = None) -> str:
    """Run a client program (against url), the password passed in the environment, never on a command line
    that every user of the machine can read; its output, or a BackupError with its last line of error."""
    env = dict(os.environ)
    if url:
        params = conninfo_to_dict(url)
        if password := params.pop("password", None):
            env["PGPASSWORD"] = password
        command = [*command, "--dbname", make_conninfo(**params)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode:
        lines = [line.strip() for line in (result.stderr or result.stdout).strip().splitlines()]
        errors = [line for line in lines if "error:" in line]  # not the hints that follow it
        raise BackupError(f"{Path(command[0]).name} failed: {(errors or lines or ['no output'])[-1]}")
    return result.stdout


def dump(url: str, directory: Path, raw: bool = False, now: datetime | None = None) -> Path:
    """Write a dated dump into directory and return its path; a dump cut short never gets the final name."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / NAME.format(now or datetime.now(UTC))
    partial = target.with_suffix(".partial")
    command = [program("pg_dump"), "--format=custom", "--schema=energy", "--schema=deploy", f"--file={partial}"]
    if not raw:
        command.append(f"--exclude-table-data={RAW_TABLES}")
    try:
        run(command, url)
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    partial.chmod(0o640)  # the household's history is nobody else's business
    partial.rename(target)
    return target


def prune(directory: Path, keep: int) -> list[Path]:
    """Remove all but the newest keep dumps; returns what was removed."""
    dumps = sorted(directory.glob("energy-*.dump"))
    old = dumps[:-keep] if keep else dumps
    for path in old:
        path.unlink()
    return old


def restore_list(file: Path) -> str:
    """The dump's table of contents without its views: make migrate re-creates them for this server (the view of
    pg_cron's job runs depends on where pg_cron lives)."""
    toc = run([program("pg_restore"), "--list", str(file)])
    return "\n".join(line for line in toc.splitlines() if " VIEW " not in line) + "\n"


def dumped_migrations(file: Path) -> set[str]:
    """The versions of the migrations applied in the database the dump was taken from."""
    text = run([program("pg_restore"), "--data-only", "--schema=deploy", "--table=migration", "--file=-", str(file)])
    rows = text.partition(" FROM stdin;\n")[2].partition("\\.\n")[0]
    return {line.split("\t", 1)[0] for line in rows.splitlines()}


def restore(url: str, file: Path) -> list[str]:
    """Load a dump into an empty database, all or nothing, then migrate it to this version of the code."""
    if not file.is_file():
        raise BackupError(f"no such file: {file}")
    if newer := sorted(dumped_migrations(file) - {m.version for m in migrate.migrations()}):
        raise BackupError(f"the dump comes from a newer release (migrations {', '.join(newer)}): update the "
                          "checkout first")
    with psycopg.connect(url, autocommit=True) as conn:
        migrate.require_pg_cron(conn)
        if conn.execute("SELECT to_regnamespace('energy') IS NOT NULL").fetchone()[0]:
            raise BackupError(f"database {conn.info.dbname} is not empty (it has the schema energy): "
                              "restore into a new, empty database")
        conn.execute(ROLES)
    with tempfile.NamedTemporaryFile("w", suffix=".list") as listing:
        listing.write(restore_list(file))
        listing.flush()
        run([program("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
             f"--use-list={listing.name}", str(file)], url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM deploy.repeatable")  # re-apply the views, functions and grants
    return migrate.migrate(url, atomic=True)


def database_url(backup: bool) -> str:
    """The owner's URL as settings.database_url decides it; for a dump BACKUP_DATABASE_URL first (the installed
    services' read-only role)."""
    return (backup and settings.setting("BACKUP_DATABASE_URL", settings.connection_url)) or settings.database_url()


def main(argv: list[str] | None = None) -> int:
    """python -m stack.backup dump [--raw] [--dir D] | restore FILE | nightly."""
    parser = cli.Parser(prog="python -m stack.backup", description="Back up and restore what cannot be rebuilt.")
    commands = parser.add_subparsers(dest="command", required=True)
    dump_command = commands.add_parser("dump", help="write a dated dump (make backup)")
    dump_command.add_argument("--raw", action="store_true", help="with the raw readings (RAW=1)")
    dump_command.add_argument("--dir", type=Path, help="where to write it [env BACKUP_DIR]")
    commands.add_parser("restore", help="load a dump into an empty database (make restore)").add_argument(
        "file", type=Path)
    commands.add_parser("nightly", help="dump into BACKUP_DIR and keep the newest BACKUP_KEEP (the timer)")
    args = parser.parse_args(argv)
    services.load_configuration()
    if args.command == "restore":
        for line in restore(database_url(backup=False), args.file):
            print(line)
        print(f"restored {args.file}")
        return 0
    directory = (args.command == "dump" and args.dir) or health.backup_dir()
    keep = settings.setting("BACKUP_KEEP", settings.integer(1), 14)
    path = dump(database_url(backup=True), directory, raw=args.command == "dump" and args.raw)
    removed = prune(directory, keep) if args.command == "nightly" else []
    print(f"backup: {path} ({health.human(path.stat().st_size)})"
          + (f", removed {len(removed)} older" if removed else ""))
    return 0


if __name__ == "__main__":
    cli.run(main)
