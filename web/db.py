"""The dashboard's database access: a small pool of read-only connections and the named queries."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from flask import Flask, current_app
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

QUERY_FILE = Path(__file__).with_name("queries.sql")
POOL_SIZE = 4  # connections, and the web server's worker threads: one each


def load_queries(path: Path = QUERY_FILE) -> dict[str, str]:
    """The '-- name: x' sections of queries.sql, by name."""
    parts = re.split(r"^-- name: (\w+)\n", path.read_text(), flags=re.MULTILINE)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}


QUERIES = load_queries()


def init_app(app: Flask) -> None:
    """Open the pool lazily (the page can load while the database is still starting); every connection is checked
    when taken, so the first request after a database restart gets a fresh one instead of a 503."""
    app.extensions["pool"] = ConnectionPool(app.config["DATABASE_URL"], min_size=1, max_size=POOL_SIZE, open=False,
                                            kwargs={"autocommit": True, "row_factory": dict_row}, timeout=5,
                                            check=ConnectionPool.check_connection)


@contextmanager
def connection() -> Iterator[psycopg.Connection]:
    """A pooled connection for the length of a request's queries."""
    pool: ConnectionPool = current_app.extensions["pool"]
    if pool.closed:
        pool.open()
    with pool.connection() as conn:
        yield conn


def fetch(name: str, **params) -> list[dict]:
    """Run a named query and return its rows as dicts."""
    with connection() as conn:
        return conn.execute(QUERIES[name], params or None).fetchall()


def one(rows: list[dict]) -> dict | None:
    """The single row of a one-row view, or None."""
    return rows[0] if rows else None
