"""Fixtures: one PostgreSQL server per session, a migrated template database, a fresh clone of it per test."""

import itertools
import os

import psycopg
import pytest
from psycopg import sql

from db import migrate
from tests.chromium import CHROMIUM, CHROMIUM_ARGS, Dashboard
from tests.pg import admin, clone, start_server, stop_server, url_of

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
    with clone(pg_server, template, f"t{next(_numbers)}") as url:
        yield url


@pytest.fixture
def db(db_url):
    """An autocommit owner connection to the test's database."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def empty_db_url(pg_server):
    """The URL of an empty database (nothing migrated)."""
    with clone(pg_server, "template1", f"empty{next(_numbers)}") as url:
        yield url


@pytest.fixture
def meter(db):
    """The day-tariff import register of the live meter, the counter most tests read."""
    return db.execute("SELECT id FROM energy.metric WHERE source = 'dsmr' AND name = 'energy_import_t1'").fetchone()[0]


@pytest.fixture
def browser():
    """A headless Chromium (the test is skipped where Playwright is not installed)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def dashboard(db_url, tmp_path):
    """python -m web on the test's database; no traceback in its log at the end."""
    served = Dashboard(db_url, tmp_path)
    yield served
    served.close()
    assert "Traceback" not in served.log.read_text()
