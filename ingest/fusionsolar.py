"""python -m ingest.fusionsolar: read the inverter's figures from Huawei's FusionSolar cloud (Northbound API).

For households without local Modbus access. Logs in, finds the station and its inverters, and polls their
real-time KPIs within the API's limits (an endpoint at most every few minutes), logging in again when the
session expires (failCode 305) and slowing down when told to (failCode 407). With --history it fetches the
station's hourly production of past days instead (ingest.fusionsolar_history).
"""

import argparse
import asyncio
import logging
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ingest import options
from ingest.backoff import Backoff
from ingest.fusionsolar_history import HISTORY_METRICS, History
from ingest.northbound import Api, FusionSolarError, items, station_code
from ingest.spool import Reading
from ingest.writer import Writer
from stack import cli, settings

log = logging.getLogger("ingest.fusionsolar")
INVERTER_TYPES = (1, 38)  # string inverter, residential inverter
# dataItemMap key -> (metric, factor to the catalog unit, how several inverters combine)
KPIS = {
    "active_power": ("power_active", 1000.0, sum),
    "day_cap": ("energy_yield_day", 1.0, sum),
    "total_cap": ("energy_yield_total", 1.0, sum),
    "temperature": ("temperature_internal", 1.0, max),
    "efficiency": ("efficiency", 1.0, lambda values: sum(values) / len(values)),
}
METRICS = {metric for metric, _, _ in KPIS.values()}
BACKOFF_CEILING = 3600.0


def kpi_readings(answer: dict, ts: datetime) -> list[Reading]:
    """Readings from getDevRealKpi, combined over the inverters."""
    values: dict[str, list[float]] = {}
    for device in items(answer, "getDevRealKpi"):
        kpi = device.get("dataItemMap")
        if not isinstance(kpi, dict):
            raise FusionSolarError("getDevRealKpi: a device without dataItemMap")
        for key, (metric, factor, _) in KPIS.items():
            try:
                values.setdefault(metric, []).append(float(kpi[key]) * factor)
            except (KeyError, TypeError, ValueError):
                continue  # not reported by this inverter model, or null at night
    combine = {metric: how for metric, _, how in KPIS.values()}
    return [Reading(ts, metric, combine[metric](found)) for metric, found in values.items() if found]


class Collector:
    """Discovers the station's inverters once, then polls their KPIs every interval."""

    def __init__(self, api: Api, writer: Writer, interval: float, station: str | None,
                 clock=lambda: datetime.now(UTC)):
        self.api, self.writer, self.interval, self.station, self.clock = api, writer, interval, station, clock
        self.inverters: dict[int, list[str]] = {}  # devTypeId -> device ids

    def discover(self) -> None:
        """The configured station (or the account's first) and its inverters."""
        station = station_code(self.api, self.station)
        for device in items(self.api.call("getDevList", {"stationCodes": station}), "getDevList"):
            if device.get("devTypeId") in INVERTER_TYPES and device.get("id") is not None:
                self.inverters.setdefault(device["devTypeId"], []).append(str(device["id"]))
        if not self.inverters:
            raise FusionSolarError(f"station {station} has no inverter (is the station code right?)")
        log.info("station %s: inverters %s", station, self.inverters)

    def poll(self) -> list[Reading]:
        """One reading of every inverter's KPIs."""
        found = []
        for type_id, ids in self.inverters.items():
            answer = self.api.call("getDevRealKpi", {"devIds": ",".join(ids), "devTypeId": type_id})
            found += kpi_readings(answer, self.clock())
        return found

    async def once(self) -> None:
        """Discover if needed, poll, write."""
        if not self.inverters:
            await asyncio.to_thread(self.discover)
        await self.writer.write(await asyncio.to_thread(self.poll))
        await self.writer.replay()

    async def run(self) -> None:
        """Poll forever; failures wait twice as long each time (never a tight loop), a success restores the pace."""
        backoff = Backoff(2 * self.interval, BACKOFF_CEILING)
        while True:
            try:
                await self.once()
                backoff.reset()
                wait = self.interval
            except FusionSolarError as error:  # 407 (RateLimited) included
                wait = backoff.next()
                log.warning("%s: skipped, next call in %.0f s", error, wait)
            await asyncio.sleep(wait)


def day(text: str) -> date:
    """An argparse type for a YYYY-MM-DD date."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def zone(name: str) -> ZoneInfo:
    """A check for a time zone name; ValueError, as every check of stack.settings, so that the environment and the
    command line give the same one line."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of the database, such as "Europe"
        raise ValueError("must be a time zone like Europe/Brussels") from None


def main(argv: list[str] | None = None) -> int:
    """Parse options and poll until interrupted (or once), or fetch the history."""
    parser = options.parser("Read the inverter's figures from the Huawei FusionSolar cloud and store them.")
    parser.add_argument("--url", action=options.EnvDefault, env="FUSIONSOLAR_URL",
                        help="the FusionSolar server of your region, e.g. https://eu5.fusionsolar.huawei.com")
    parser.add_argument("--user", action=options.EnvDefault, env="FUSIONSOLAR_USER", help="the API account")
    parser.add_argument("--station", action=options.EnvDefault, env="FUSIONSOLAR_STATION",
                        help="station code, e.g. NE=33554875; set, no discovery call is made "
                             "(default: the account's first station)")
    parser.add_argument("--interval", action=options.EnvDefault, env="FUSIONSOLAR_INTERVAL", default=300.0,
                        type=options.positive(), help="seconds between polls (the API allows about 5 minutes)")
    parser.add_argument("--once", action="store_true", help="poll once, write, and exit")
    parser.add_argument("--history", type=day, metavar="YYYY-MM-DD",
                        help="instead of polling, store the hourly production of every day from this one to "
                             "yesterday, then exit; run it again to resume after an interruption")
    parser.add_argument("--history-pause", type=float, default=60.0, metavar="S",
                        help="seconds between history calls (default 60; the API allows about 25 a day)")
    parser.add_argument("--time-zone", action=options.EnvDefault, env="FUSIONSOLAR_TIME_ZONE",
                        default="Europe/Brussels", type=zone, help="the station's time zone: its days")
    args = parser.parse_args(argv)
    system_code = settings.text("FUSIONSOLAR_SYSTEM_CODE")  # from the environment only, never an argument
    if not (args.url and args.user and system_code):
        parser.error("set FUSIONSOLAR_URL, FUSIONSOLAR_USER and FUSIONSOLAR_SYSTEM_CODE")
    if args.history and args.history >= datetime.now(args.time_zone).date():
        parser.error("--history: give a day before today (today's hours come from the live collector)")
    options.setup_logging(args.log_level)
    api = Api(args.url, args.user, system_code)
    url = options.database_url(args)
    try:
        if args.history:
            # a spool of its own: the live collector may be replaying and clearing the other one meanwhile
            folder = args.spool_dir / "fusionsolar-history"
            history = History(api, Writer(url, "fusionsolar", folder, HISTORY_METRICS),
                              station_code(api, args.station), args.time_zone, folder / "progress.json",
                              args.history_pause)
            asyncio.run(history.run(args.history))
        else:
            collector = Collector(api, options.writer(args, "fusionsolar", METRICS), args.interval, args.station)
            asyncio.run(collector.once() if args.once else collector.run())
    except FusionSolarError as error:
        log.error("%s", error)
        return 1
    except KeyboardInterrupt:
        log.info("stopped" + (": run the same command again to resume" if args.history else ""))
    return 0


if __name__ == "__main__":
    cli.run(main)
