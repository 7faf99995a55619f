"""The station's hourly production of past days, from the Northbound API (python -m ingest.fusionsolar --history).

getKpiStationDay (one call per month) says which days have production on record; getKpiStationHour (one call per
day) gives each hour's production, stored as the amount energy_yield_hour at the start of its hour. The API
allows about 25 calls a day per interface, so years of history take days: calls are paced, failCode 407 (and a
failing network) waits, doubling up to an hour, and tries again, and every finished day is remembered in a
progress file, so an interrupted import resumes where it stopped. Newest days first.
"""

import asyncio
import json
import logging
import math
import os
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from pathlib import Path
from zoneinfo import ZoneInfo

from ingest.backoff import Backoff
from ingest.northbound import Api, FusionSolarError, Refused, items
from ingest.spool import Reading
from ingest.writer import Writer

log = logging.getLogger("ingest.fusionsolar")
METRIC = "energy_yield_hour"
HISTORY_METRICS = {METRIC}
WAIT_FIRST, WAIT_MAX = 60.0, 3600.0  # seconds after a refusal for too many calls


class Progress:
    """The days already fetched, per station, in a JSON file replaced atomically after each day."""

    def __init__(self, path: Path, station: str):
        self.path, self.station = path, station
        try:
            self.stations = json.loads(path.read_text()) if path.exists() else {}
            self.done = set(self.stations.get(station, []))
        except (ValueError, AttributeError, TypeError):
            log.warning("progress file %s is damaged: starting over (days fetched again are stored once)", path)
            self.stations, self.done = {}, set()

    def __contains__(self, day: date) -> bool:
        return day.isoformat() in self.done

    def add(self, day: date) -> None:
        """Remember a finished day."""
        self.done.add(day.isoformat())
        self.stations[self.station] = sorted(self.done)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps(self.stations))
        os.replace(partial, self.path)


def number(value) -> float | None:
    """A finite number from a JSON value (the API sends numbers, numeric strings, or null)."""
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) and not isinstance(value, bool) else None


def moment(milliseconds) -> datetime | None:
    """The UTC time of a collectTime in milliseconds since 1970, or None for anything else."""
    ms = number(milliseconds)
    try:
        return datetime.fromtimestamp(ms / 1000, UTC) if ms is not None else None
    except (OverflowError, OSError, ValueError):
        return None


def produced(entry: dict) -> float | None:
    """The kWh an entry of a station KPI answer gives (dataItemMap.inverter_power)."""
    kpi = entry.get("dataItemMap")
    return number(kpi.get("inverter_power")) if isinstance(kpi, dict) else None


class History:
    """Fetches one station's hourly production from a first day to yesterday, within the API's limits."""

    def __init__(self, api: Api, writer: Writer, station: str, zone: ZoneInfo, progress: Path, pause: float,
                 sleep=asyncio.sleep, today: date | None = None):
        self.api, self.writer, self.station, self.zone = api, writer, station, zone
        self.progress_path, self.pause, self.sleep, self.today = progress, pause, sleep, today

    def start(self, day: date) -> datetime:
        """The UTC moment the station's local day begins."""
        return datetime.combine(day, time(), self.zone).astimezone(UTC)

    def noon(self, day: date) -> int:
        """A collectTime inside the local day (noon exists on every day, DST or not), in milliseconds."""
        return int(datetime.combine(day, time(12), self.zone).timestamp() * 1000)

    async def call(self, endpoint: str, day: date) -> list[dict]:
        """The items an endpoint gives for the day (or month) around day; paced, and retried while rate-limited."""
        backoff = Backoff(WAIT_FIRST, WAIT_MAX)
        while True:
            await self.sleep(self.pause)
            body = {"stationCodes": self.station, "collectTime": self.noon(day)}
            try:
                answer = await asyncio.to_thread(self.api.call, endpoint, body)
            except Refused:
                raise
            except FusionSolarError as error:  # 407, or the server or network failed
                wait = backoff.next()
                log.warning("%s (%s): trying again in %.0f s", error, day, wait)
                await self.sleep(wait)
            else:
                return items(answer, endpoint)

    async def run(self, first: date) -> None:
        """Fetch every day from first to yesterday not fetched before, newest first; then let go of the spool."""
        try:
            await self.fetch_all(first)
        finally:
            await self.writer.close()

    async def fetch_all(self, first: date) -> None:
        """Fetch every day from first to yesterday not fetched before, newest first."""
        today = self.today or datetime.now(self.zone).date()
        progress = Progress(self.progress_path, self.station)
        days = [today - timedelta(days=n) for n in range(1, (today - first).days + 1)]
        todo = [day for day in days if day not in progress]
        log.info("history of station %s from %s: %d days to fetch, %d fetched before", self.station, first,
                 len(todo), len(days) - len(todo))
        for _, month in groupby(todo, key=lambda day: (day.year, day.month)):
            month = list(month)
            totals = {}
            for entry in await self.call("getKpiStationDay", month[0]):
                ts = moment(entry.get("collectTime"))
                if ts is not None and (total := produced(entry)) is not None:
                    totals[ts.astimezone(self.zone).date()] = total
            for day in month:
                if day in totals:
                    await self.fetch(day, totals[day])
                else:
                    log.debug("%s: no production on record", day)
                progress.add(day)
        if not await self.writer.replay():
            log.warning("the database is unreachable: the readings wait in the spool; run the command again later")

    async def fetch(self, day: date, total: float) -> None:
        """Store one day's hours, and say so when they do not add up to the day's total."""
        start, end = self.start(day), self.start(day + timedelta(days=1))
        readings = []
        for entry in await self.call("getKpiStationHour", day):
            ts, value = moment(entry.get("collectTime")), produced(entry)
            if ts is not None and start <= ts < end and value is not None:
                readings.append(Reading(ts, METRIC, value))
        hours = sum(r.value for r in readings)
        if abs(hours - total) > 0.01 + total / 100:
            log.warning("%s: the hours add up to %.3f kWh, the day's total is %.3f kWh", day, hours, total)
        await self.writer.write(readings)
        log.info("%s: %d hours, %.3f kWh", day, len(readings), hours)
