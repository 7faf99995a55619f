"""Command-line options of the collectors and simulators, each defaulting to an environment setting (.env is read).

A value from the environment gets exactly the checks, and the message, that the same value on the command line
gets: `SUN2000_UNIT_ID=300` and `--unit-id 300` are both refused with one line.
"""

import argparse
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingest.spool import SpoolInUse
from ingest.writer import SPOOL_CAP_MB, WRITE_TIMEOUT, Writer
from stack import cli, settings

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# What a plain int or float type says about a value it cannot read.
KIND_CHECKS = {int: settings.integer(-(2**31), 2**31 - 1), float: settings.number()}


def check_of(kind: Callable[[str], Any], choices) -> Callable[[str], Any]:
    """One check from argparse's type and choices: converted by kind, then within choices."""
    convert = KIND_CHECKS.get(kind, kind)

    def check(raw: str) -> Any:
        value = convert(raw)
        if choices is not None and value not in choices:
            allowed = (f"from {choices.start} to {choices.stop - 1}" if isinstance(choices, range)
                       else f"one of {', '.join(map(str, choices))}")
            raise ValueError(f"must be {allowed}")
        return value
    return check


class EnvDefault(argparse.Action):
    """An option whose default comes from an environment variable, named in --help, and checked as a
    command-line value is."""

    def __init__(self, option_strings, dest, env: str, default=None, type=str, choices=None, **kwargs):
        super().__init__(option_strings, dest, default=default, **kwargs)
        self.name = f"{option_strings[0]} ({env})" if option_strings else env
        self.check = check_of(type, choices)
        if raw := settings.text(env):
            self.default = settings.checked(self.name, raw, self.check)
        elif isinstance(default, str):  # read as a command-line value would be, as argparse does with its own actions
            self.default = settings.checked(self.name, default, self.check)
        if choices is not None and not isinstance(choices, range) and not self.metavar:
            self.metavar = "{" + ",".join(map(str, choices)) + "}"
        self.help = f"{self.help} [env {env}" + (f", default {default}]" if default is not None else "]")

    def __call__(self, parser, namespace, values, option_string=None):
        """A value given on the command line wins over the environment."""
        setattr(namespace, self.dest, settings.checked(self.name, values, self.check))


class Parser(cli.Parser):
    """The one-line-error argument parser of every program, with --log-level."""

    def __init__(self, description: str):
        super().__init__(description=description)
        self.add_argument("--log-level", action=EnvDefault, env="LOG_LEVEL", default="INFO", type=str.upper,
                          choices=LOG_LEVELS, help="how much to log (any case)")


def parser(description: str) -> Parser:
    """A collector's argument parser: database, spool and logging options."""
    settings.load_dotenv()
    parser = Parser(description)
    parser.add_argument("--database-url", action=EnvDefault, env="INGEST_DATABASE_URL",
                        type=settings.connection_url,
                        help="where to write readings, as the energy_ingest role (derived from DATABASE_URL, "
                             "or the local cluster, when unset)")
    parser.add_argument("--spool-dir", action=EnvDefault, env="SPOOL_DIR", type=Path,
                        default=settings.ROOT / ".local" / "spool",
                        help="where readings wait while the database is unreachable")
    parser.add_argument("--spool-max-mb", action=EnvDefault, env="SPOOL_MAX_MB", default=SPOOL_CAP_MB, type=positive(),
                        help="largest spool file in MB: beyond it the oldest gauge readings are dropped, counter "
                             "readings never")
    parser.add_argument("--write-timeout", action=EnvDefault, env="WRITE_TIMEOUT", default=WRITE_TIMEOUT,
                        type=positive(), help="seconds a database write may take before its batch is spooled")
    return parser


port = settings.port  # a TCP port number


def database_url(args: argparse.Namespace) -> str:
    """The ingest URL: given, or as settings.database_url decides for the energy_ingest role."""
    return args.database_url or settings.database_url("energy_ingest")


def writer(args: argparse.Namespace, source: str, metrics: set[str]) -> Writer:
    """The shared writer, as the options say; one line and exit when another collector holds the spool."""
    try:
        return Writer(database_url(args), source, args.spool_dir, metrics, write_timeout=args.write_timeout,
                      spool_cap_mb=args.spool_max_mb)
    except SpoolInUse as error:
        raise settings.ConfigError(str(error)) from None


def setup_logging(level: str) -> None:
    """Log lines with time, level and component."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def positive(kind=float):
    """A type for a number above zero."""
    return settings.integer(1) if kind is int else settings.number(above=0)
