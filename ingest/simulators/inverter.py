"""A SUN2000 inverter in the sun: its values by time of day and season, with a yield that grows by exactly
the energy its active power implies and a daily yield that restarts at local midnight."""

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from ingest.simulators.solar import clear_sky_power

BRUSSELS = ZoneInfo("Europe/Brussels")


@dataclass
class InverterModel:
    """State of the simulated inverter; values(now) moves it to now and returns every register's value."""

    now: datetime
    rated_power: float = 5000.0
    panels_peak: float = 5400.0
    meter: bool = False
    battery: bool = False
    yield_total: float = 12345.67  # kWh
    yield_day: float = 0.0
    overrides: dict = field(default_factory=dict)  # register name -> fixed value (tests)

    def active_power(self, ts: datetime) -> tuple[float, float]:
        """(DC input, AC output) in whole watts at ts, the AC output capped at the rated power."""
        dc = round(clear_sky_power(ts, self.panels_peak))
        return dc, round(min(dc * 0.975, self.rated_power))

    def advance(self, now: datetime) -> None:
        """Integrate the output up to now (Wh from the power held since the last step)."""
        if now <= self.now:
            return
        _, ac = self.active_power(self.now)
        energy = ac * (now - self.now).total_seconds() / 3.6e6
        if now.astimezone(BRUSSELS).date() != self.now.astimezone(BRUSSELS).date():
            self.yield_day = 0.0
        self.yield_total += energy
        self.yield_day += energy
        self.now = now

    def values(self, now: datetime) -> dict[str, float | str]:
        """Every register's physical value at now."""
        self.advance(now)
        dc, ac = self.active_power(self.now)
        producing = dc > 0
        volts = 380.0 if producing else 0.0
        values = {
            "model_name": "SUN2000-5KTL-L1", "serial_number": "HV2150012345", "rated_power": self.rated_power,
            "pv_01_voltage": volts, "pv_01_current": round(dc / 2 / volts, 2) if producing else 0.0,
            "pv_02_voltage": volts, "pv_02_current": round(dc / 2 / volts, 2) if producing else 0.0,
            "input_power": dc, "active_power": ac, "reactive_power": 0, "power_factor": 1.0 if producing else 0.0,
            "phase_A_voltage": 231.2, "phase_B_voltage": 230.4, "phase_C_voltage": 229.8,
            "phase_A_current": round(ac / 3 / 231.2, 3), "phase_B_current": round(ac / 3 / 230.4, 3),
            "phase_C_current": round(ac / 3 / 229.8, 3), "grid_frequency": 50.0,
            "efficiency": 97.5 if producing else 0.0, "internal_temperature": 25.0 + ac / 250,
            "device_status": 0x0200 if producing else 0xA000,
            # registers hold hundredths of a kWh: the stored totals step by exactly what was produced
            "accumulated_yield_energy": self.yield_total, "daily_yield_energy": self.yield_day,
        }
        if self.meter:
            values |= {"meter_status": 1, "power_meter_active_power": ac - 600,
                       "grid_exported_energy": 1234.5 + self.yield_total / 2, "grid_accumulated_energy": 5678.9}
        if self.battery:
            values |= {"storage_state_of_capacity": 55.0, "storage_charge_discharge_power": -250}
        return values | self.overrides
