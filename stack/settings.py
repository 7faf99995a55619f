"""The one configuration layer: settings from the environment (a .env file is read first), each checked the same
way wherever it comes from, and the database URL of each role."""

import io
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dotenv
import psycopg
from dotenv.parser import parse_stream
from psycopg.conninfo import conninfo_to_dict

from stack.cli import ExpectedError

ROOT = Path(__file__).resolve().parent.parent
# The roles the programs connect as, and the setting that may give each its own URL.
ROLE_URLS = {"energy_ingest": "INGEST_DATABASE_URL", "energy_web": "WEB_DATABASE_URL"}


class ConfigError(ExpectedError):
    """A setting has a value the program cannot use."""


def env_file() -> Path:
    """The file of settings: ENV_FILE, or .env in the checkout."""
    return Path(os.environ.get("ENV_FILE") or ROOT / ".env")


def load_dotenv(path: Path | None = None) -> None:
    """Read a settings file (default: the checkout's, or ENV_FILE) into the environment (what is set already
    wins); a line it cannot read is an error, and so is a file this account may not read (PermissionError)."""
    named = path is None and bool(os.environ.get("ENV_FILE"))
    path = path or env_file()
    try:
        text = path.read_text()
    except FileNotFoundError:
        if named:
            raise ConfigError(f"ENV_FILE names {path}, which does not exist") from None
        return
    except PermissionError:
        raise
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from None
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            raise ConfigError(f"{path}:{binding.original.line}: expected KEY=VALUE, "
                              f"got {binding.original.string.strip()!r}")
    dotenv.load_dotenv(stream=io.StringIO(text), override=False)


# Checks: each turns text into a value or raises ValueError saying what the value must be.

def integer(minimum: int = 0, maximum: int = 2**31 - 1) -> Callable[[str], int]:
    """A check for a whole number within [minimum, maximum]."""
    def check(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError("must be an integer") from None
        if not minimum <= value <= maximum:
            raise ValueError(f"must be from {minimum} to {maximum}")
        return value
    return check


def number(above: float | None = None) -> Callable[[str], float]:
    """A check for a finite number (greater than above, when given)."""
    def check(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError("must be a number") from None
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        if above is not None and value <= above:
            raise ValueError(f"must be above {above:g}")
        return value
    return check


port = integer(1, 65535)


def connection_url(raw: str) -> str:
    """A check for a PostgreSQL URL (postgresql://user@host:port/database) that libpq can read."""
    if urlsplit(raw).scheme not in ("postgresql", "postgres"):
        raise ValueError("must be a URL like postgresql://user@host:5432/energy")
    try:
        conninfo_to_dict(raw)
    except psycopg.ProgrammingError as error:
        raise ValueError(f"is not a valid URL ({error})") from None
    return raw


def checked(name: str, raw: str, check: Callable[[str], Any]) -> Any:
    """check(raw), or a ConfigError naming the setting: one message whether it came from a file, the
    environment or the command line."""
    try:
        return check(raw)
    except ValueError as error:
        raise ConfigError(f"{name} {error}, got {raw!r}") from None


def setting(name: str, check: Callable[[str], Any] = str, default: Any = None) -> Any:
    """The environment setting name, checked; the default when unset or empty."""
    raw = os.environ.get(name)
    return checked(name, raw, check) if raw else default


def text(name: str, default: str | None = None) -> str | None:
    """The setting as text, or the default when unset or empty."""
    return setting(name, str, default)


def database_url(role: str | None = None) -> str:
    """Where a role connects (None: the owner): its own setting, else DATABASE_URL as that role, else the local
    cluster. The one place that decides it, for make run, the collectors and the dashboard alike."""
    if role in ROLE_URLS and (own := setting(ROLE_URLS[role], connection_url)):
        return own
    if owner := setting("DATABASE_URL", connection_url):
        return with_user(owner, role) if role else owner
    from db.cluster import local_cluster  # imported here: the cluster reads its own settings from this module

    return local_cluster().url(role) if role else local_cluster().url()


def with_user(url: str, user: str) -> str:
    """The same database URL with another user and no password."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


def redacted(url: str) -> str:
    """The URL with its password hidden, for messages."""
    parts = urlsplit(url)
    credentials, at, host = parts.netloc.rpartition("@")
    if ":" in credentials:
        credentials = credentials.split(":", 1)[0] + ":***"
    return urlunsplit(parts._replace(netloc=f"{credentials}{at}{host}"))
