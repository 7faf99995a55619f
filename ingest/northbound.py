"""Huawei FusionSolar's Northbound API (thirdData): a session, its failure codes, and finding the station.

The system code never appears in logs or error messages.
"""

import json
import logging
import urllib.error
import urllib.request

log = logging.getLogger("ingest.fusionsolar")


class FusionSolarError(Exception):
    """The API failed or answered something that is not its JSON."""


class SessionExpired(FusionSolarError):
    """failCode 305: the session is gone; log in again."""


class RateLimited(FusionSolarError):
    """failCode 407: too many calls to this interface; wait longer."""


class Refused(FusionSolarError):
    """The API answered, and said no (any other failCode)."""


class Api:
    """The Northbound endpoints over HTTPS with the XSRF token of a session."""

    def __init__(self, base_url: str, user: str, system_code: str, timeout: float = 30.0):
        self.base_url, self.user, self._system_code, self.timeout = base_url.rstrip("/"), user, system_code, timeout
        self.token: str | None = None

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
            message = answer.get("message") or answer.get("data")
            said = f": {message[:200]}" if isinstance(message, str) and message else ""
            raise Refused(f"{endpoint}: failed (failCode {code}{said})")
        return answer

    def login(self) -> None:
        """Open a session; its token comes back in the xsrf-token header."""
        answer, headers = self._post("login", {"userName": self.user, "systemCode": self._system_code})
        self._check("login", answer)
        token = headers.get("xsrf-token")
        if not token:
            raise FusionSolarError("login: no xsrf-token in the answer")
        self.token = token
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


def station_code(api: Api, configured: str | None) -> str:
    """The configured station without asking; else the account's first station, from /stations (accounts since
    2023, where getStationList answers failCode 401) or getStationList (older accounts)."""
    if configured:
        return configured
    try:
        codes = [s.get("plantCode") for s in items(api.call("stations", {"pageNo": 1}), "stations")]
    except Refused as error:
        log.info("%s: asking getStationList (an older account)", error)
        codes = [s.get("stationCode") for s in items(api.call("getStationList", {}), "getStationList")]
    codes = [code for code in codes if isinstance(code, str) and code]
    if not codes:
        raise FusionSolarError("the account has no station")
    if len(codes) > 1:
        log.info("the account has stations %s: reading %s (set FUSIONSOLAR_STATION to choose)", codes, codes[0])
    return codes[0]
