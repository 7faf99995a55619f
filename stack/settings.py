"""Settings from the environment; a .env file in the checkout is read first when present."""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting has a value the program cannot use."""


def load_dotenv(path: Path = ROOT / ".env") -> None:
    """Read KEY=VALUE lines of a .env file into the environment, never overriding what is already set."""
    if not path.is_file():
        return
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{path}:{number}: expected KEY=VALUE, got {line!r}")
        os.environ.setdefault(key.strip(), value.strip().strip("'\""))


def text(name: str, default: str | None = None) -> str | None:
    """The setting as text, or the default when unset or empty."""
    return os.environ.get(name) or default


def number(name: str, default: float, minimum: float = 0, maximum: float = float("inf"), kind=float):
    """The setting as a number within [minimum, maximum], with a clear error otherwise."""
    raw = os.environ.get(name)
    if not raw:
        return kind(default)
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {'an integer' if kind is int else 'a number'}, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {raw!r}")
    return value


def integer(name: str, default: int, minimum: int = 0, maximum: int = 2**31 - 1) -> int:
    """The setting as an integer within [minimum, maximum]."""
    return number(name, default, minimum, maximum, kind=int)


def port(name: str, default: int) -> int:
    """The setting as a TCP port number."""
    return integer(name, default, 1, 65535)


def with_user(url: str, user: str) -> str:
    """The same database URL with another user and no password (local trust or peer authentication)."""
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
