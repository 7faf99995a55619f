"""Command-line options every collector shares, each defaulting to an environment setting (.env is read)."""

import argparse
import logging
import sys
from pathlib import Path

from ingest.spool import SpoolInUse
from ingest.writer import SPOOL_CAP_MB, WRITE_TIMEOUT, Writer
from stack import settings


class EnvDefault(argparse.Action):
    """An option whose default comes from an environment variable, named in --help."""

    def __init__(self, env: str, default=None, **kwargs):
        value = settings.text(env)
        super().__init__(default=value if value is not None else default, **kwargs)
        self.help = f"{self.help} [env {env}" + (f", default {default}]" if default is not None else "]")

    def __call__(self, parser, namespace, values, option_string=None):
        """A value given on the command line wins over the environment."""
        setattr(namespace, self.dest, values)


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the database, spool and logging options."""
    try:
        settings.load_dotenv()
    except settings.ConfigError as error:
        sys.exit(f"error: {error}")
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database-url", action=EnvDefault, env="INGEST_DATABASE_URL",
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
    parser.add_argument("--log-level", action=EnvDefault, env="LOG_LEVEL", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="how much to log")
    return parser


def database_url(args: argparse.Namespace) -> str:
    """The ingest URL: given, derived from DATABASE_URL, or the local cluster's."""
    if args.database_url:
        return args.database_url
    owner = settings.text("DATABASE_URL")
    if owner:
        return settings.with_user(owner, "energy_ingest")
    from db.cluster import local_cluster

    return local_cluster().url(user="energy_ingest")


def writer(args: argparse.Namespace, source: str, metrics: set[str]) -> Writer:
    """The shared writer, as the options say; one line and exit when another collector holds the spool."""
    try:
        return Writer(database_url(args), source, args.spool_dir, metrics, write_timeout=args.write_timeout,
                      spool_cap_mb=args.spool_max_mb)
    except SpoolInUse as error:
        sys.exit(f"error: {error}")


def setup_logging(level: str) -> None:
    """Log lines with time, level and component."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def positive(kind=float):
    """An argparse type for a number above zero, with a clear message."""
    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be above zero")
        return value
    return convert
