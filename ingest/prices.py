"""python -m ingest.prices FILE [FILE ...]: import day-ahead market prices (hourly or quarter-hourly CSV) into
energy.market_price, from which energy.costs prices the hours of a dynamic contract.

Every file is read and checked before anything is written; then all prices are stored in one statement, through the
ingest role. A price already stored, or overlapping one that is, is kept as it is: importing a file twice, or files
that overlap, changes nothing.
"""

from pathlib import Path

import psycopg

from ingest import options
from ingest.price_csv import LENGTHS, Price, read_file, shown
from stack import cli, settings

INSERT = """
INSERT INTO energy.market_price (period_start, period_end, eur_per_kwh)
SELECT * FROM unnest(%s::timestamptz[], %s::timestamptz[], %s::numeric[])
ON CONFLICT DO NOTHING
"""


def store(url: str, prices: list[Price]) -> int:
    """Store the prices in one transaction, in time order; returns how many were new."""
    prices = sorted(prices)
    with psycopg.connect(url, connect_timeout=10) as conn:
        return conn.execute(INSERT, ([p.start for p in prices], [p.end for p in prices],
                                     [p.eur_per_kwh for p in prices])).rowcount


def describe(path: Path, prices: list[Price], unit: str) -> str:
    """One line about a file: how many prices of which length, over which span, read in which unit."""
    if not prices:
        return f"{path}: no prices (none published)"
    kinds = " and ".join(f"{sum(p.end - p.start == length for p in prices):,} "
                         f"{'quarter-hour' if length == LENGTHS[0] else 'hourly'}"
                         for length in LENGTHS if any(p.end - p.start == length for p in prices))
    return f"{path}: {kinds} prices from {shown(prices[0].start)} to {shown(prices[-1].end)} ({unit})"


def main(argv: list[str] | None = None) -> int:
    """Check every file named, then store their prices; a bad file is one line naming it and its line."""
    settings.load_dotenv()
    parser = options.Parser("Import day-ahead market prices (a CSV with a time column and a price in EUR/MWh, per "
                            "hour or quarter hour) for the dynamic contracts of energy.tariff.")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="a CSV of day-ahead prices")
    parser.add_argument("--database-url", action=options.EnvDefault, env="INGEST_DATABASE_URL",
                        type=settings.connection_url,
                        help="where to write, as the energy_ingest role (derived from DATABASE_URL, or the local "
                             "cluster, when unset)")
    args = parser.parse_args(argv)
    found, lines = [], []
    for path in args.files:
        prices, columns = read_file(path)
        found += prices
        unit = f"{'EUR/kWh' if columns.per_kwh else 'EUR/MWh'} from column {columns.price_name!r}"
        lines.append(describe(path, prices, unit))
    url = options.database_url(args)
    try:
        new = store(url, found)
    except psycopg.OperationalError as error:
        raise cli.ExpectedError(f"cannot connect to {settings.redacted(url)}: {cli.one_line(error)} "
                                "(nothing imported)") from None
    for line in lines:
        print(line)
    print(f"stored {new:,} new prices ({len(found) - new:,} were already stored)")
    return 0


if __name__ == "__main__":
    cli.run(main)
