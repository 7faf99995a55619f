"""What the collector stores of a P1 telegram: dsmr-parser attribute -> catalog metric and unit, as data."""

from fractions import Fraction
from typing import NamedTuple


class Field(NamedTuple):
    """A telegram value the catalog stores: its metric, the catalog's unit and the OBIS code (for messages)."""

    metric: str
    unit: str
    obis: str


# Values measured at the telegram's time (0-0:1.0.0).
AT_TELEGRAM_TIME = {
    "ELECTRICITY_USED_TARIFF_1": Field("energy_import_t1", "kWh", "1-0:1.8.1"),
    "ELECTRICITY_USED_TARIFF_2": Field("energy_import_t2", "kWh", "1-0:1.8.2"),
    "ELECTRICITY_DELIVERED_TARIFF_1": Field("energy_export_t1", "kWh", "1-0:2.8.1"),
    "ELECTRICITY_DELIVERED_TARIFF_2": Field("energy_export_t2", "kWh", "1-0:2.8.2"),
    "CURRENT_ELECTRICITY_USAGE": Field("power_import", "W", "1-0:1.7.0"),
    "CURRENT_ELECTRICITY_DELIVERY": Field("power_export", "W", "1-0:2.7.0"),
    "INSTANTANEOUS_ACTIVE_POWER_L1_POSITIVE": Field("power_import_l1", "W", "1-0:21.7.0"),
    "INSTANTANEOUS_ACTIVE_POWER_L2_POSITIVE": Field("power_import_l2", "W", "1-0:41.7.0"),
    "INSTANTANEOUS_ACTIVE_POWER_L3_POSITIVE": Field("power_import_l3", "W", "1-0:61.7.0"),
    "INSTANTANEOUS_ACTIVE_POWER_L1_NEGATIVE": Field("power_export_l1", "W", "1-0:22.7.0"),
    "INSTANTANEOUS_ACTIVE_POWER_L2_NEGATIVE": Field("power_export_l2", "W", "1-0:42.7.0"),
    "INSTANTANEOUS_ACTIVE_POWER_L3_NEGATIVE": Field("power_export_l3", "W", "1-0:62.7.0"),
    "INSTANTANEOUS_VOLTAGE_L1": Field("voltage_l1", "V", "1-0:32.7.0"),
    "INSTANTANEOUS_VOLTAGE_L2": Field("voltage_l2", "V", "1-0:52.7.0"),
    "INSTANTANEOUS_VOLTAGE_L3": Field("voltage_l3", "V", "1-0:72.7.0"),
    "INSTANTANEOUS_CURRENT_L1": Field("current_l1", "A", "1-0:31.7.0"),
    "INSTANTANEOUS_CURRENT_L2": Field("current_l2", "A", "1-0:51.7.0"),
    "INSTANTANEOUS_CURRENT_L3": Field("current_l3", "A", "1-0:71.7.0"),
    "BELGIUM_CURRENT_AVERAGE_DEMAND": Field("demand_avg_quarter", "W", "1-0:1.4.0"),
    "ELECTRICITY_ACTIVE_TARIFF": Field("tariff", "", "0-0:96.14.0"),
}

# Values that carry their own timestamp (the moment of the month's peak quarter hour).
AT_OWN_TIME = {
    "BELGIUM_MAXIMUM_DEMAND_MONTH": Field("demand_max_month", "W", "1-0:1.6.0"),
}

# M-Bus device type (0-n:24.1.0, the medium of EN 13757-3) -> the series of the first such device and its unit.
# The second device of a kind gets '_2', the third '_3' (channels 1-4), so two gas meters never share a series.
MBUS_DEVICE_TYPES = {
    3: ("gas_volume", "m3"),
    4: ("heat_energy", "kWh"),  # heat, measured at the outlet
    12: ("heat_energy", "kWh"),  # heat, measured at the inlet
    7: ("water_volume", "m3"),
    10: ("cooling_energy", "kWh"),  # cooling, measured at the outlet
    11: ("cooling_energy", "kWh"),  # cooling, measured at the inlet
}
MBUS_CHANNELS = 4

# P1 units -> (the catalog's unit, the exact factor to it). 1 GJ = 10^9 J / 3.6 * 10^6 J per kWh.
UNITS = {
    "kW": ("W", Fraction(1000)),
    "W": ("W", Fraction(1)),
    "kWh": ("kWh", Fraction(1)),
    "MWh": ("kWh", Fraction(1000)),
    "GJ": ("kWh", Fraction(10**9, 3_600_000)),
    "m3": ("m3", Fraction(1)),
    "V": ("V", Fraction(1)),
    "A": ("A", Fraction(1)),
    None: ("", Fraction(1)),
}


def mbus_metric(base: str, number: int) -> str:
    """The series of the number-th device (from 1) of one kind: gas_volume, gas_volume_2, ..."""
    return base if number == 1 else f"{base}_{number}"


METRICS = {
    *(field.metric for field in AT_TELEGRAM_TIME.values()),
    *(field.metric for field in AT_OWN_TIME.values()),
    *(mbus_metric(base, n) for base, _ in MBUS_DEVICE_TYPES.values() for n in range(1, MBUS_CHANNELS + 1)),
}
