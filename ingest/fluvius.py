"""python -m ingest.fluvius FILE [FILE ...]: import the CSV exports of the Mijn Fluvius portal as history.

Every file is read and checked before anything is written; then all their readings are stored in one transaction,
through the ingest role. A reading already stored is kept as it is, so importing a file twice, or files that
overlap, changes nothing. The readings are amounts of source fluvius, used wherever the live meter has no data.
"""

import sys
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import psycopg

from ingest import options, portal_db
from ingest.portal import ZONE
from ingest.portal_csv import ExportError, Reading, parse_file
from stack import cli, settings

HOW = """Get the files at Mijn Fluvius > Verbruikshistoriek: ask for the quarter-hour totals (kwartiertotalen) of
the electricity meter and the hourly totals (uurtotalen) of the gas meter, as CSV."""


class File(NamedTuple):
    """What one file held."""

    path: Path
    readings: int
    first: datetime | None
    last: datetime | None


def import_files(url: str, paths: list[Path]) -> tuple[list[File], int]:
    """Check every file, then store all their readings; returns what each held and how many readings were new.

    Raises ExportError (one line per bad file) before anything is written."""
    with psycopg.connect(url, connect_timeout=10, autocommit=True) as conn:
        catalog = portal_db.catalog(conn)
        parsed: dict[Path, list[Reading]] = {}
        errors = []
        for path in paths:
            try:
                parsed[path] = parse_file(path, catalog)
            except ExportError as error:
                errors.append(str(error))
        if errors:
            raise ExportError("\n".join(errors))
        new = portal_db.write(conn, [reading for readings in parsed.values() for reading in readings])
    files = [File(path, len(readings), min(r.ts for r in readings) if readings else None,
                  max(r.ts for r in readings) if readings else None) for path, readings in parsed.items()]
    return files, new


def describe(file: File) -> str:
    """One line about a file: how many readings, over which local days."""
    if not file.readings:
        return f"{file.path}: no readings (only empty volumes)"
    first, last = (ts.astimezone(ZONE).date() for ts in (file.first, file.last))
    return f"{file.path}: {file.readings:,} readings from {first} to {last}"


def main(argv: list[str] | None = None) -> int:
    """Import the files named on the command line; a clear one-line error per bad file and nothing imported."""
    settings.load_dotenv()
    parser = cli.Parser(prog="python -m ingest.fluvius", epilog=HOW,
                                     description="Import the CSV exports of the Mijn Fluvius portal as history.")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="a CSV export of the portal")
    parser.add_argument("--database-url", action=options.EnvDefault, env="INGEST_DATABASE_URL",
                        type=settings.connection_url,
                        help="where to write readings, as the energy_ingest role (derived from DATABASE_URL, "
                             "or the local cluster, when unset)")
    args = parser.parse_args(argv)
    try:
        files, new = import_files(options.database_url(args), args.files)
    except (ExportError, portal_db.CatalogError) as error:
        for line in str(error).splitlines():
            print(f"error: {line}", file=sys.stderr)
        print("nothing imported", file=sys.stderr)
        return cli.EXIT_EXPECTED
    except psycopg.Error as error:
        raise cli.ExpectedError(f"database: {cli.one_line(error)}; nothing imported (is the database running? "
                                "make db-start)") from None
    except KeyboardInterrupt:
        print("interrupted: nothing imported", file=sys.stderr)
        return 130
    for file in files:
        print(describe(file))
    total = sum(file.readings for file in files)
    print(f"stored {new:,} new readings ({total - new:,} were already stored)")
    return 0


if __name__ == "__main__":
    cli.run(main)
