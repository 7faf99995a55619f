"""The CSV exports of the Mijn Fluvius portal, as data: column names in Dutch and English, registers and units.

Electricity comes as quarter-hour totals ("kwartiertotalen", "15 minute totals"), gas as hourly totals
("uurtotalen", "hourly totals"): one row per register and interval, `;` separated, with a decimal comma.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Europe/Brussels")  # the portal writes Belgian local time, whatever the calendar setting

# The columns the importer reads, each with the names the portal gives it (compared in lower case, with single
# spaces). Other columns (EAN, meter, validation status, caloric value, description) are ignored.
COLUMNS = {
    "from_date": ("van datum", "from (date)"),
    "from_time": ("van tijdstip", "from (time)"),
    "until_date": ("tot datum", "until (date)"),
    "until_time": ("tot tijdstip", "until (time)"),
    "register": ("register",),
    "volume": ("volume",),
    "unit": ("eenheid", "unit"),
}

UNITS = {"kwh": "kWh", "m3": "m3", "m³": "m3"}

# (register, unit) -> metric of source fluvius. Gas gives every hour twice: in m3 and in kWh.
REGISTERS = {
    ("afname dag", "kWh"): "energy_import_t1",
    ("afname nacht", "kWh"): "energy_import_t2",
    ("injectie dag", "kWh"): "energy_export_t1",
    ("injectie nacht", "kWh"): "energy_export_t2",
    ("afname", "m3"): "gas_volume",
    ("afname", "kWh"): "gas_energy",
    ("offtake day", "kWh"): "energy_import_t1",
    ("offtake night", "kWh"): "energy_import_t2",
    ("injection day", "kWh"): "energy_export_t1",
    ("injection night", "kWh"): "energy_export_t2",
    ("offtake", "m3"): "gas_volume",
    ("offtake", "kWh"): "gas_energy",
}

# A volume that is no reading at all (the validation status then says "Geen verbruik" / "No consumption").
NO_READING = {"", "geen verbruik", "no consumption"}

# Each interval in words, and the report of the portal that gives it (named in errors about other files).
REPORTS = {
    timedelta(minutes=15): ("a quarter hour", "the quarter-hour totals (kwartiertotalen) for electricity"),
    timedelta(hours=1): ("an hour", "the hourly totals (uurtotalen) for gas"),
}
