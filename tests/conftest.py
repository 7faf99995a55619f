"""Fixtures: one PostgreSQL server per session, a migrated template database, a fresh clone of it per test."""

import itertools
import os

import psycopg
import pytest
from psycopg import sql

from db import migrate
from tests.pg import CRON_DATABASE, start_server, stop_server

TEMPLATE = "energy_template"
_numbers = itertools.count()


@pytest.fixture(autouse=True)
def no_dotenv(monkeypatch):
    """Keep the developer's .env out of every test, and out of every program a test starts."""
    monkeypatch.setenv("ENV_FILE", os.devnull)


@pytest.fixture(scope="session")
def pg_server():
    """The session's PostgreSQL server."""
    server, base = start_server()
    with admin(server) as conn:
        # The installed cluster runs with jit = off. With JIT, run_aggregations on a loaded machine compiled its
        # statements with LLVM at every call (seconds instead of 0.05 s: the test of writers during the jobs then ran
        # for most of an hour). Only the tests' owner role is set: the other roles' own settings are still tested.
        conn.execute("ALTER ROLE CURRENT_USER SET jit = off")
    yield server
    stop_server(server, base)


def url_of(server, database: str, user: str = "postgres") -> str:
    """The URL of a database of the test server."""
    return server.url(database=database, user=user)


def admin(server) -> psycopg.Connection:
    """An autocommit superuser connection to the server's pg_cron database."""
    return psycopg.connect(url_of(server, CRON_DATABASE), autocommit=True)


@pytest.fixture(scope="session")
def template(pg_server):
    """A database migrated once, cloned by every test; its pg_cron jobs are removed so they never fire on it."""
    with admin(pg_server) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    migrate.migrate(url_of(pg_server, TEMPLATE))
    with admin(pg_server) as conn:
        conn.execute("SELECT cron.unschedule(jobid) FROM cron.job")
    return TEMPLATE


@pytest.fixture
def db_url(pg_server, template):
    """The URL of a fresh migrated database for one test."""
    name = f"t{next(_numbers)}"
    with admin(pg_server) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
            sql.Identifier(name), sql.Identifier(template)))
    yield url_of(pg_server, name)
    with admin(pg_server) as conn:
        conn.execute(sql.SQL("SELECT cron.unschedule(jobid) FROM cron.job WHERE database = {}").format(
            sql.Literal(name)))
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def db(db_url):
    """An autocommit owner connection to the test's database."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def empty_db_url(pg_server):
    """The URL of an empty database (nothing migrated)."""
    name = f"empty{next(_numbers)}"
    with admin(pg_server) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield url_of(pg_server, name)
    with admin(pg_server) as conn:
        if conn.execute("SELECT to_regclass('cron.job')").fetchone()[0]:  # pg_cron is created by the first schedule
            conn.execute("SELECT cron.unschedule(jobid) FROM cron.job WHERE database = %s", (name,))
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def meter(db):
    """The day-tariff import register of the live meter, the counter most tests read."""
    return db.execute("SELECT id FROM energy.metric WHERE source = 'dsmr' AND name = 'energy_import_t1'").fetchone()[0]
