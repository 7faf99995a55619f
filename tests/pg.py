"""A throwaway PostgreSQL server for the tests (testing.postgresql) with pg_cron preloaded, also as root, and the
URLs and superuser connections of its databases."""

import itertools
import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import testing.postgresql
from psycopg import sql

from db import cluster

CRON_DATABASE = "test"  # testing.postgresql's own database
CRON_ARGS = [
    "-c shared_preload_libraries=pg_cron,plpgsql_check",
    f"-c cron.database_name={CRON_DATABASE}",
    "-c cron.use_background_workers=on",
    "-c max_worker_processes=32",
]
_examples = itertools.count()  # numbers the property tests' databases


def start_server(preload_cron: bool = True, durable: bool = False,
                 options: tuple[str, ...] = ()) -> tuple[testing.postgresql.Postgresql, Path]:
    """Start a server (fsync off unless durable, as a production server has it; options: more -c name=value);
    returns it and its base directory (to remove after stop)."""
    base = Path(tempfile.mkdtemp(prefix="brs5-test-pg-"))
    bindir = cluster.bindir()
    programs = {name: str(bindir / name) for name in ("initdb", "postgres")}
    if cluster.running_as_root():
        # PostgreSQL refuses root: exec the programs as the server account, on a tree it owns.
        account = pwd.getpwnam(cluster.SERVER_ACCOUNT)
        for sub in ("", "data", "tmp"):
            (base / sub).mkdir(exist_ok=True)
            os.chown(base / sub, account.pw_uid, account.pw_gid)
        base.chmod(0o755)
        for name, program in programs.items():
            wrapper = base / f"{name}-as-server"
            wrapper.write_text(f'#!/bin/sh\nexec {" ".join(cluster.as_server([program]))} "$@"\n')
            wrapper.chmod(0o755)
            programs[name] = str(wrapper)
    server = testing.postgresql.Postgresql(
        base_dir=str(base),
        **programs,
        postgres_args=" ".join(["-h 127.0.0.1 -c logging_collector=off", *([] if durable else ["-F"]),
                                *(CRON_ARGS if preload_cron else []), *(f"-c {option}" for option in options)]),
    )
    return server, base


def stop_server(server: testing.postgresql.Postgresql, base: Path) -> None:
    """Stop the server and remove its files."""
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


def url_of(server: testing.postgresql.Postgresql, database: str, user: str = "postgres") -> str:
    """The URL of a database of the test server."""
    return server.url(database=database, user=user)


def admin(server: testing.postgresql.Postgresql) -> psycopg.Connection:
    """An autocommit superuser connection to the server's pg_cron database."""
    return psycopg.connect(url_of(server, CRON_DATABASE), autocommit=True)


@contextmanager
def clone(server: testing.postgresql.Postgresql, template: str, name: str) -> Iterator[str]:
    """A database copied from the template for the length of the block (its pg_cron jobs go with it); its URL."""
    with admin(server) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
            sql.Identifier(name), sql.Identifier(template)))
    try:
        yield url_of(server, name)
    finally:
        with admin(server) as conn:
            if conn.execute("SELECT to_regclass('cron.job')").fetchone()[0]:  # pg_cron is created by the first schedule
                conn.execute("SELECT cron.unschedule(jobid) FROM cron.job WHERE database = %s", (name,))
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def fresh_database(server: testing.postgresql.Postgresql, template: str) -> Iterator[psycopg.Connection]:
    """A database of its own for one example of a property test, cloned from the template; an autocommit connection."""
    with clone(server, template, f"prop{next(_examples)}") as url, psycopg.connect(url, autocommit=True) as db:
        yield db
