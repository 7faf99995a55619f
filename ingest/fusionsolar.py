"""python -m ingest.fusionsolar: read the inverter's figures from Huawei's FusionSolar cloud (Northbound API).

For households without local Modbus access. Logs in, finds the station and its inverters, and polls their
real-time KPIs within the API's limits (an endpoint at most every few minutes), logging in again when the
session expires (failCode 305) and slowing down when told to (failCode 407). The system code never appears
in logs or error messages.
"""

import asyncio
import json
import logging
import urllib.error
import urllib.request
from datetime import UTC, datetime

from ingest import options
from ingest.backoff import Backoff
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


class FusionSolarError(Exception):
    """The API failed or answered something that is not its JSON."""


class SessionExpired(FusionSolarError):
    """failCode 305: the session is gone; log in again."""


class RateLimited(FusionSolarError):
    """failCode 407: too many calls to this interface; wait longer."""


class Api:
    """The few Northbound endpoints the collector needs, over HTTPS with the XSRF token of a session."""

    def __init__(self, base_url: str, user: str, system_code: str, timeout: float = 30.0):
        self.base_url, self.user, self._system_code, self.timeout = base_url.rstrip("/"), user, system_code, timeout
        self.token: str | None = None
        self.logins = 0

    def _post(self, endpoint: str, body: dict) -> tuple[dict, dict]:
        """POST JSON; returns (answer, headers) or raises FusionSolarError without echoing the request."""
        request = urllib.request.Request(
            f"{self.base_url}/thirdData/{endpoint}", data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", **({"XSRF-TOKEN": self.token} if self.token else {})})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload, headers = response.read(), response.headers
        except urllib.error.HTTPError as error:
            raise FusionSolarError(f"{endpoint}: HTTP {error.code}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise FusionSolarError(f"{endpoint}: {type(reason).__name__}: {reason}") from None
        try:
            answer = json.loads(payload)
        except ValueError:
            kind = headers.get("Content-Type", "unknown content")
            raise FusionSolarError(f"{endpoint}: answer is not JSON ({kind}, {len(payload)} bytes)") from None
        if not isinstance(answer, dict):
            raise FusionSolarError(f"{endpoint}: answer is not a JSON object")
        return answer, headers

    def _check(self, endpoint: str, answer: dict) -> dict:
        """The answer, or the exception its failCode means."""
        code = answer.get("failCode")
        if code == 305:
            raise SessionExpired(f"{endpoint}: session expired (failCode 305)")
        if code == 407:
            raise RateLimited(f"{endpoint}: too many calls (failCode 407)")
        if answer.get("success") is not True:
            raise FusionSolarError(f"{endpoint}: failed (failCode {code})")
        return answer

    def login(self) -> None:
        """Open a session; its token comes back in the xsrf-token header."""
        answer, headers = self._post("login", {"userName": self.user, "systemCode": self._system_code})
        self._check("login", answer)
        token = headers.get("xsrf-token")
        if not token:
            raise FusionSolarError("login: no xsrf-token in the answer")
        self.token = token
        self.logins += 1
        log.info("logged in to FusionSolar as %s", self.user)

    def call(self, endpoint: str, body: dict) -> dict:
        """Call an endpoint, logging in first when needed and once more when the session expired."""
        if self.token is None:
            self.login()
        try:
            return self._check(endpoint, self._post(endpoint, body)[0])
        except SessionExpired:
            log.info("FusionSolar session expired: logging in again")
            self.token = None
            self.login()
            return self._check(endpoint, self._post(endpoint, body)[0])


def items(answer: dict, endpoint: str) -> list[dict]:
    """The list under "data" (some endpoints wrap it in {"list": [...]})."""
    data = answer.get("data")
    if isinstance(data, dict):
        data = data.get("list")
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise FusionSolarError(f"{endpoint}: no list of items in the answer")
    return data


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
        """The configured station (or the first) and its inverters."""
        stations = items(self.api.call("getStationList", {}), "getStationList")
        codes = [s.get("stationCode") for s in stations if s.get("stationCode")]
        if not codes:
            raise FusionSolarError("getStationList: the account has no station")
        station = self.station or codes[0]
        if station not in codes:
            raise FusionSolarError(f"station {station} is not in this account (it has: {', '.join(codes)})")
        for device in items(self.api.call("getDevList", {"stationCodes": station}), "getDevList"):
            if device.get("devTypeId") in INVERTER_TYPES and device.get("id") is not None:
                self.inverters.setdefault(device["devTypeId"], []).append(str(device["id"]))
        if not self.inverters:
            raise FusionSolarError(f"station {station} has no inverter")
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


def main(argv: list[str] | None = None) -> int:
    """Parse options and poll until interrupted (or once)."""
    parser = options.parser("Read the inverter's figures from the Huawei FusionSolar cloud and store them.")
    parser.add_argument("--url", action=options.EnvDefault, env="FUSIONSOLAR_URL",
                        help="the FusionSolar server of your region, e.g. https://eu5.fusionsolar.huawei.com")
    parser.add_argument("--user", action=options.EnvDefault, env="FUSIONSOLAR_USER", help="the API account")
    parser.add_argument("--station", action=options.EnvDefault, env="FUSIONSOLAR_STATION",
                        help="station code (default: the first station of the account)")
    parser.add_argument("--interval", action=options.EnvDefault, env="FUSIONSOLAR_INTERVAL", default=300.0,
                        type=options.positive(), help="seconds between polls (the API allows about 5 minutes)")
    parser.add_argument("--once", action="store_true", help="poll once, write, and exit")
    args = parser.parse_args(argv)
    system_code = settings.text("FUSIONSOLAR_SYSTEM_CODE")  # from the environment only, never an argument
    if not (args.url and args.user and system_code):
        parser.error("set FUSIONSOLAR_URL, FUSIONSOLAR_USER and FUSIONSOLAR_SYSTEM_CODE")
    options.setup_logging(args.log_level)
    api = Api(args.url, args.user, system_code)
    collector = Collector(api, Writer(options.database_url(args), "fusionsolar", args.spool_dir, METRICS),
                          args.interval, args.station)
    try:
        if args.once:
            asyncio.run(collector.once())
        else:
            asyncio.run(collector.run())
    except FusionSolarError as error:
        log.error("%s", error)
        return 1
    except KeyboardInterrupt:
        log.info("stopped")
    return 0


if __name__ == "__main__":
    cli.run(main)
