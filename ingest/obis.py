"""What the collector stores of a Fluvius telegram: dsmr-parser attribute -> catalog metric, as data."""

# Values measured at the telegram's time.
AT_TELEGRAM_TIME = {
    "ELECTRICITY_USED_TARIFF_1": "energy_import_t1",
    "ELECTRICITY_USED_TARIFF_2": "energy_import_t2",
    "ELECTRICITY_DELIVERED_TARIFF_1": "energy_export_t1",
    "ELECTRICITY_DELIVERED_TARIFF_2": "energy_export_t2",
    "CURRENT_ELECTRICITY_USAGE": "power_import",
    "CURRENT_ELECTRICITY_DELIVERY": "power_export",
    "INSTANTANEOUS_ACTIVE_POWER_L1_POSITIVE": "power_import_l1",
    "INSTANTANEOUS_ACTIVE_POWER_L2_POSITIVE": "power_import_l2",
    "INSTANTANEOUS_ACTIVE_POWER_L3_POSITIVE": "power_import_l3",
    "INSTANTANEOUS_ACTIVE_POWER_L1_NEGATIVE": "power_export_l1",
    "INSTANTANEOUS_ACTIVE_POWER_L2_NEGATIVE": "power_export_l2",
    "INSTANTANEOUS_ACTIVE_POWER_L3_NEGATIVE": "power_export_l3",
    "INSTANTANEOUS_VOLTAGE_L1": "voltage_l1",
    "INSTANTANEOUS_VOLTAGE_L2": "voltage_l2",
    "INSTANTANEOUS_VOLTAGE_L3": "voltage_l3",
    "INSTANTANEOUS_CURRENT_L1": "current_l1",
    "INSTANTANEOUS_CURRENT_L2": "current_l2",
    "INSTANTANEOUS_CURRENT_L3": "current_l3",
    "BELGIUM_CURRENT_AVERAGE_DEMAND": "demand_avg_quarter",
    "ELECTRICITY_ACTIVE_TARIFF": "tariff",
}

# Values that carry their own timestamp (the moment of the month's peak quarter hour).
AT_OWN_TIME = {
    "BELGIUM_MAXIMUM_DEMAND_MONTH": "demand_max_month",
}

# M-Bus device type (0-n:24.1.0) -> metric of its reading, stored at the device's capture time.
MBUS_DEVICE_TYPES = {
    3: "gas_volume",
    7: "water_volume",
}

# Units turned into the catalog's canonical ones.
UNIT_SCALE = {"kW": 1000.0, "kWh": 1.0, "V": 1.0, "A": 1.0, "m3": 1.0, None: 1.0}

METRICS = {*AT_TELEGRAM_TIME.values(), *AT_OWN_TIME.values(), *MBUS_DEVICE_TYPES.values()}
