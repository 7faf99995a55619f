"""A SUN2000 inverter in the sun: its values by time of day and season, with a yield that grows by exactly
the energy its active power implies and a daily yield that restarts at local midnight; optionally a power meter
and a battery."""

from dataclasses import dataclass, field
from datetime import datetime

from ingest.simulators.solar import BRUSSELS, clear_sky_power

PHASE_VOLTS = (231.2, 230.4, 229.8)
LINE_VOLTS = (399.8, 398.6, 399.3)  # A-B, B-C, C-A
HOUSE_LOAD = 600.0  # W behind the meter
BATTERY_POWER = -250.0  # W, negative: discharging (steadily, so its counters are easy to check)


@dataclass
class InverterModel:
    """State of the simulated inverter; values(now) moves it to now and returns every register's value."""

    now: datetime
    rated_power: float = 5000.0
    panels_peak: float = 5400.0
    strings: int = 2
    meter: bool = False
    battery: bool = False
    yield_total: float = 12345.67  # kWh
    yield_day: float = 0.0
    peak_day: float = 0.0  # W
    charged: float = 2345.67  # kWh, since installation
    discharged: float = 2100.0
    discharged_day: float = 0.0
    overrides: dict = field(default_factory=dict)  # register name -> fixed value (tests)

    def active_power(self, ts: datetime) -> tuple[float, float]:
        """(DC input, AC output) in whole watts at ts, the AC output capped at the rated power."""
        dc = round(clear_sky_power(ts, self.panels_peak))
        return dc, round(min(dc * 0.975, self.rated_power))

    def advance(self, now: datetime) -> None:
        """Integrate the output (and the battery's) up to now, from the powers held since the last step."""
        if now <= self.now:
            return
        _, ac = self.active_power(self.now)
        hours = (now - self.now).total_seconds() / 3600
        if now.astimezone(BRUSSELS).date() != self.now.astimezone(BRUSSELS).date():
            self.yield_day = self.peak_day = self.discharged_day = 0.0
        self.yield_total += ac * hours / 1000
        self.yield_day += ac * hours / 1000
        self.discharged -= BATTERY_POWER * hours / 1000
        self.discharged_day -= BATTERY_POWER * hours / 1000
        self.now = now
        self.peak_day = max(self.peak_day, self.active_power(now)[1])

    def values(self, now: datetime) -> dict[str, float | str]:
        """Every register's physical value at now."""
        self.advance(now)
        dc, ac = self.active_power(self.now)
        producing = dc > 0
        volts = 380.0 if producing else 0.0
        amps = round(dc / self.strings / volts, 2) if producing else 0.0
        values = {
            "model_name": "SUN2000-5KTL-M1", "serial_number": "HV2150012345", "rated_power": self.rated_power,
            "nb_pv_strings": self.strings, "alarm_1": 0, "alarm_2": 0, "alarm_3": 0, "fault_code": 0,
            "input_power": dc, "active_power": ac, "reactive_power": 0, "power_factor": 1.0 if producing else 0.0,
            "line_voltage_A_B": LINE_VOLTS[0], "line_voltage_B_C": LINE_VOLTS[1], "line_voltage_C_A": LINE_VOLTS[2],
            "phase_A_voltage": PHASE_VOLTS[0], "phase_B_voltage": PHASE_VOLTS[1], "phase_C_voltage": PHASE_VOLTS[2],
            **{f"phase_{p}_current": round(ac / 3 / v, 3) for p, v in zip("ABC", PHASE_VOLTS, strict=True)},
            "day_active_power_peak": self.peak_day, "grid_frequency": 50.0,
            "efficiency": 97.5 if producing else 0.0, "internal_temperature": 25.0 + ac / 250,
            "insulation_resistance": 3.2, "device_status": 0x0200 if producing else 0xA000,
            # registers hold hundredths of a kWh: the stored totals step by exactly what was produced
            "accumulated_yield_energy": self.yield_total, "daily_yield_energy": self.yield_day,
        }
        for n in range(1, self.strings + 1):
            values |= {f"pv_{n:02}_voltage": volts, f"pv_{n:02}_current": amps}
        if self.meter:
            grid = ac - HOUSE_LOAD  # positive: feeding in
            values |= {"meter_status": 1, "power_meter_active_power": grid, "active_grid_frequency": 50.0,
                       "grid_exported_energy": 1234.5 + self.yield_total / 2, "grid_accumulated_energy": 5678.9,
                       "meter_type": 1}
            for p, v in zip("ABC", PHASE_VOLTS, strict=True):
                values |= {f"grid_{p}_voltage": v, f"active_grid_{p}_current": round(grid / 3 / v, 2),
                           f"active_grid_{p}_power": round(grid / 3)}
        if self.battery:
            values |= {"storage_rated_capacity": 10.0, "storage_state_of_capacity": 55.0,
                       "storage_running_status": 2, "storage_charge_discharge_power": BATTERY_POWER,
                       "storage_total_charge": self.charged, "storage_total_discharge": self.discharged,
                       "storage_current_day_charge_capacity": 0.0,
                       "storage_current_day_discharge_capacity": self.discharged_day}
        return values | self.overrides
