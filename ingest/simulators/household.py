"""A household behind a Fluvius meter: load, solar export, tariffs, quarter-hour demand and a gas meter.

Counters grow by exactly the energy the reported powers imply over each step.
"""

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ingest.simulators.inverter import InverterModel
from ingest.simulators.solar import BRUSSELS

GAS_CAPTURE = timedelta(minutes=5)


def tariff(ts: datetime) -> int:
    """Belgian tariff: 1 (day) on weekdays 07:00-22:00, 2 (night) otherwise."""
    local = ts.astimezone(BRUSSELS)
    return 1 if local.weekday() < 5 and 7 <= local.hour < 22 else 2


def quarter_start(ts: datetime) -> datetime:
    """The start of the quarter hour containing ts."""
    return ts.replace(minute=ts.minute - ts.minute % 15, second=0, microsecond=0)


@dataclass
class Household:
    """The state of the meter; advance() moves it on by one telegram."""

    now: datetime
    panels_peak: float = 5400.0  # the same panels as the inverter simulator's, so both simulators agree
    seed: int = 1
    import_kwh: list[float] = field(default_factory=lambda: [1234.567, 2345.678])
    export_kwh: list[float] = field(default_factory=lambda: [345.678, 12.345])
    gas_m3: float = 1500.0
    gas_reading: tuple[datetime, float] | None = None
    quarter: datetime | None = None
    quarter_energy: float = 0.0  # watt-seconds imported in the running quarter
    peak: tuple[datetime, float] | None = None  # (end of quarter, W) this month
    power: tuple[float, float] = (0.0, 0.0)  # (import, export) W
    voltages: tuple[float, float, float] = (230.0, 230.0, 230.0)

    def __post_init__(self):
        self.rng = random.Random(self.seed)

    def load(self, ts: datetime) -> float:
        """House consumption in W: a base load, cooking and evening peaks, and random appliances."""
        local = ts.astimezone(BRUSSELS)
        hour = local.hour + local.minute / 60
        base = 250 + 600 * math.exp(-((hour - 19) ** 2) / 4) + 300 * math.exp(-((hour - 7.5) ** 2) / 1.5)
        return base + self.rng.choice((0, 0, 0, 0, 120, 800, 2000)) * self.rng.random()

    def advance(self, seconds: float = 1.0) -> None:
        """Move time on, adding the energy of the current powers to the counters first."""
        imported, exported = self.power
        active = tariff(self.now) - 1
        self.import_kwh[active] += imported * seconds / 3.6e6
        self.export_kwh[active] += exported * seconds / 3.6e6
        self.gas_m3 += self.gas_rate() * seconds / 3600
        self._track_demand(imported, seconds)
        self.now += timedelta(seconds=seconds)
        _, solar = InverterModel(now=self.now, panels_peak=self.panels_peak).active_power(self.now)
        net = self.load(self.now) - solar
        self.power = (round(max(net, 0.0)), round(max(-net, 0.0)))  # whole watts, as the meter shows
        self.voltages = tuple(round(230 + self.rng.uniform(-4, 4), 1) for _ in range(3))
        captured = self.now - (self.now - datetime.min.replace(tzinfo=self.now.tzinfo)) % GAS_CAPTURE
        if self.gas_reading is None or self.gas_reading[0] != captured:
            self.gas_reading = (captured, self.gas_m3)

    def gas_rate(self) -> float:
        """Gas use in m3/h: heating in the cold months."""
        month = self.now.astimezone(BRUSSELS).month
        return 0.05 + (0.6 if month in (11, 12, 1, 2, 3) else 0.1 if month in (4, 10) else 0.0)

    def _track_demand(self, imported: float, seconds: float) -> None:
        """Average import per quarter hour and the month's highest quarter."""
        quarter = quarter_start(self.now)
        if self.quarter is not None and quarter != self.quarter:
            average = self.quarter_energy / 900
            ended = self.quarter + timedelta(minutes=15)
            same_month = self.peak and self.peak[0].astimezone(BRUSSELS).month == ended.astimezone(BRUSSELS).month
            if not same_month or average > self.peak[1]:
                self.peak = (ended, average)
            self.quarter_energy = 0.0
        self.quarter = quarter
        self.quarter_energy += imported * seconds

    def demand(self) -> float:
        """The running quarter's average demand in W (what 1-0:1.4.0 shows)."""
        elapsed = (self.now - quarter_start(self.now)).total_seconds() or 1.0
        return self.quarter_energy / max(elapsed, 1.0)
