"""A clear-sky production curve for panels in Brussels, by time of day and season."""

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LATITUDE, LONGITUDE = 50.85, 4.35
BRUSSELS = ZoneInfo("Europe/Brussels")  # the simulated household's clock: its days, tariffs and counters


def sun_elevation(ts: datetime) -> float:
    """Elevation of the sun above the horizon in degrees (a textbook approximation, good to a degree)."""
    ts = ts.astimezone(UTC)
    day = ts.timetuple().tm_yday
    declination = -23.44 * math.cos(math.radians(360 / 365 * (day + 10)))
    solar_time = ts.hour + ts.minute / 60 + ts.second / 3600 + LONGITUDE / 15
    hour_angle = 15 * (solar_time - 12)
    lat, dec, ha = map(math.radians, (LATITUDE, declination, hour_angle))
    sine = math.sin(lat) * math.sin(dec) + math.cos(lat) * math.cos(dec) * math.cos(ha)
    return math.degrees(math.asin(max(-1.0, min(1.0, sine))))


def clear_sky_power(ts: datetime, peak_watts: float) -> float:
    """DC power of panels rated peak_watts under a clear sky (0 at night)."""
    elevation = sun_elevation(ts)
    if elevation <= 0:
        return 0.0
    # Air mass thins the light near the horizon; at noon in June this gives about 85 % of peak.
    return peak_watts * math.sin(math.radians(elevation)) ** 1.3
