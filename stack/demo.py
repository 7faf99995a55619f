"""The demo's history: on an empty database with a simulated meter, make run first imports 60 days of Mijn Fluvius
exports of the simulated household through python -m ingest.fluvius's own path, and the panels' hourly production
as FusionSolar's history gives it; make run then aggregates them, so every view has data at once."""

from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

import psycopg

from ingest import fluvius, portal_db
from ingest.portal_csv import ExportError
from ingest.simulators.portal_export import exports, production
from stack import settings

DAYS = 60
# Empty: no reading and no aggregate (raw data is cleaned after two days, aggregates stay).
EMPTY = """
SELECT NOT EXISTS (SELECT FROM energy.raw_reading) AND NOT EXISTS (SELECT FROM energy.agg_hour)
   AND NOT EXISTS (SELECT FROM energy.agg_day) AND NOT EXISTS (SELECT FROM energy.agg_week)
   AND NOT EXISTS (SELECT FROM energy.agg_month)
"""

PRODUCTION = """
INSERT INTO energy.raw_reading (ts, metric_id, value)
SELECT %s, id, %s FROM energy.metric WHERE source = 'fusionsolar' AND name = 'energy_yield_hour'
ON CONFLICT DO NOTHING
"""


def seed_history(now: datetime | None = None) -> None:
    """Import the demo history when the meter is simulated and the database holds nothing yet."""
    if settings.text("DSMR_HOST"):
        return  # a real meter: its history comes from the household's own exports
    ingest_url = settings.database_url("energy_ingest")
    try:
        with psycopg.connect(settings.database_url(), connect_timeout=10) as conn:
            if not conn.execute(EMPTY).fetchone()[0]:
                return
        print(f"empty database: importing {DAYS} days of demo history (Mijn Fluvius exports of the simulated "
              "household)", flush=True)
        with TemporaryDirectory(prefix="brs5-demo-") as directory:
            paths = []
            for name, text in exports(now or datetime.now(UTC), DAYS).items():
                paths.append(Path(directory) / name)
                paths[-1].write_text(text, encoding="utf-8-sig", newline="")
            _, new = fluvius.import_files(ingest_url, paths)
        hours = production(now or datetime.now(UTC), DAYS)
        with psycopg.connect(ingest_url, autocommit=True) as conn:  # the panels' history, as FusionSolar gives it
            conn.cursor().executemany(PRODUCTION, hours)
        print(f"demo history: {new + len(hours):,} readings imported", flush=True)
    except (psycopg.Error, ExportError, portal_db.CatalogError, OSError) as error:
        print(f"demo history skipped: {str(error).strip().splitlines()[0]}", flush=True)
