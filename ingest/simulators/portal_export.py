"""The Mijn Fluvius CSV exports of the simulated household, as the portal writes them: history for the demo.

The household of the meter simulator (its load, the panels' clear-sky curve of the season, the Belgian tariffs,
gas heating in the cold months) is stepped minute by minute; each quarter hour's increase of the day or night
registers becomes two rows of the quarter-hour export, each hour's gas two rows (m3 and kWh) of the hourly export.
Once a month the household draws a peak, the quarter hour the capacity tariff counts.
"""

from datetime import UTC, datetime, timedelta

from ingest.simulators.household import BRUSSELS, Household, tariff
from ingest.simulators.inverter import InverterModel

STEP = 60  # seconds per simulation step
QUARTER, HOUR = timedelta(minutes=15), timedelta(hours=1)
GAS_KWH_PER_M3 = 11.33  # what the portal's own m3 and kWh figures imply (calorific value times conversion factor)
# The month's peak: on the 12th from 18:00 to 18:45, the oven, the kettle and the car charger at once.
PEAK_DAY, PEAK_MINUTES, PEAK_WATTS = 12, range(18 * 60, 18 * 60 + 45), 4500.0
HEADER = "Van datum;Van tijdstip;Tot datum;Tot tijdstip;EAN;Meter;Metertype;Register;Volume;Eenheid;Validatiestatus"
ELECTRICITY = '="541448800000000001";1SAG1100000001;Digitale Meter'
GAS = '="541448800000000002";7FLO00000001;Digitale Meter'
TARIFF_NAMES = {1: "Dag", 2: "Nacht"}


class PeakingHousehold(Household):
    """The simulated household, with a monthly peak."""

    def load(self, ts: datetime) -> float:
        """The household's load in W, plus the month's peak when it is on."""
        local = ts.astimezone(BRUSSELS)
        peak = local.day == PEAK_DAY and local.hour * 60 + local.minute in PEAK_MINUTES
        return super().load(ts) + (PEAK_WATTS if peak else 0.0)


def row(start: datetime, length: timedelta, meter: str, register: str, volume: float, unit: str) -> str:
    """One row of an export: Belgian wall-clock times (so 02:45-02:00 on the autumn day), decimal comma."""
    begin, end = start.astimezone(BRUSSELS), (start + length).astimezone(BRUSSELS)
    number = f"{volume:.3f}".replace(".", ",")
    return (f"{begin:%d-%m-%Y;%H:%M:%S};{end:%d-%m-%Y;%H:%M:%S};{meter};{register};{number};{unit};"
            "Gevalideerd")


def exports(end: datetime, days: int) -> dict[str, str]:
    """The electricity (quarter-hour) and gas (hourly) exports of the days before end, by portal file name."""
    end = end.astimezone(UTC)
    end = end.replace(minute=end.minute // 15 * 15, second=0, microsecond=0)
    start = (end - timedelta(days=days)).replace(minute=0)
    house = PeakingHousehold(now=start)
    house.advance(0)  # the powers at the start
    electricity, gas = [HEADER], [HEADER]
    ts, gas_before = start, house.gas_m3
    while ts < end:
        active = tariff(ts)
        imported, exported = house.import_kwh[active - 1], house.export_kwh[active - 1]
        for _ in range(int(QUARTER.total_seconds()) // STEP):
            house.advance(STEP)
        name = TARIFF_NAMES[active]
        electricity += [row(ts, QUARTER, ELECTRICITY, f"Afname {name}", house.import_kwh[active - 1] - imported, "kWh"),
                        row(ts, QUARTER, ELECTRICITY, f"Injectie {name}", house.export_kwh[active - 1] - exported,
                            "kWh")]
        ts += QUARTER
        if ts.minute == 0:
            used = house.gas_m3 - gas_before
            gas += [row(ts - HOUR, HOUR, GAS, "Afname", used, "m³"),
                    row(ts - HOUR, HOUR, GAS, "Afname", used * GAS_KWH_PER_M3, "kWh")]
            gas_before = house.gas_m3
    span = f"{start.astimezone(BRUSSELS):%Y%m%d}_{end.astimezone(BRUSSELS):%Y%m%d}"
    return {f"Verbruikshistoriek_elektriciteit_541448800000000001_{span}_kwartiertotalen.csv":
            "\r\n".join(electricity) + "\r\n",
            f"Verbruikshistoriek_gas_541448800000000002_{span}_uurtotalen.csv": "\r\n".join(gas) + "\r\n"}


def production(end: datetime, days: int) -> list[tuple[datetime, float]]:
    """The panels' energy per hour (kWh, at the hour's start) over the same days, as FusionSolar's history gives it."""
    end = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hours, ts = [], end - timedelta(days=days)
    model = InverterModel(now=ts)
    while ts < end:
        minutes = (ts + timedelta(seconds=STEP * i) for i in range(int(HOUR.total_seconds()) // STEP))
        watts = [model.active_power(minute)[1] for minute in minutes]
        hours.append((ts, round(sum(watts) * STEP / 3.6e6, 3)))
        ts += HOUR
    return hours
