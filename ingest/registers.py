"""The SUN2000 holding registers worth reading, as data, with the decoding that turns them into values.

Physical value = raw / gain; big-endian, high word first (pymodbus converts the words). Optional blocks (a power
meter, a battery) answer with Modbus exception 2 on inverters that lack them; the PV block is read up to the
number of strings the inverter says it has.
"""

from operator import attrgetter
from typing import NamedTuple

from pymodbus.client.mixin import ModbusClientMixin

DATATYPE = ModbusClientMixin.DATATYPE
# type -> (pymodbus data type, the word(s) the device sends for "not available")
TYPES = {
    "U16": (DATATYPE.UINT16, 0xFFFF),
    "I16": (DATATYPE.INT16, 0x7FFF),
    "U32": (DATATYPE.UINT32, 0xFFFFFFFF),
    "I32": (DATATYPE.INT32, 0x7FFFFFFF),
    # signed, stored as its absolute value: some meters report export energy as a negative number
    "I32ABS": (DATATYPE.INT32, 0x7FFFFFFF),
    # a word of alarm bits: every pattern, 0xFFFF included, is a set of alarms (as the reference library reads it)
    "B16": (DATATYPE.UINT16, None),
    "STR": (DATATYPE.STRING, None),
}


class Register(NamedTuple):
    """One register field: where it is, how to decode it, which metric stores it (None: logged only)."""

    name: str
    address: int
    count: int
    type: str  # a key of TYPES
    gain: float
    unit: str
    metric: str | None
    block: str  # info (read at connect, stored with every poll), inverter, pv, meter, battery


R = Register
PV_FIRST, PV_STRINGS = 32016, 24  # string n: voltage at 32016 + 2 (n - 1), current right after
PV = tuple(field for n in range(1, PV_STRINGS + 1) for field in (
    R(f"pv_{n:02}_voltage", PV_FIRST + 2 * (n - 1), 1, "I16", 10, "V", f"pv_{n:02}_voltage", "pv"),
    R(f"pv_{n:02}_current", PV_FIRST + 2 * (n - 1) + 1, 1, "I16", 100, "A", f"pv_{n:02}_current", "pv")))
REGISTERS = (
    R("model_name", 30000, 15, "STR", 1, "", None, "info"),
    R("serial_number", 30015, 10, "STR", 1, "", None, "info"),
    R("nb_pv_strings", 30071, 1, "U16", 1, "", "pv_strings", "info"),
    R("rated_power", 30073, 2, "U32", 1, "W", "rated_power", "info"),
    R("alarm_1", 32008, 1, "B16", 1, "", "alarm_1", "inverter"),
    R("alarm_2", 32009, 1, "B16", 1, "", "alarm_2", "inverter"),
    R("alarm_3", 32010, 1, "U16", 1, "", "alarm_3", "inverter"),
    *PV,
    R("input_power", 32064, 2, "I32", 1, "W", "power_input", "inverter"),
    R("line_voltage_A_B", 32066, 1, "U16", 10, "V", "grid_voltage_ab", "inverter"),
    R("line_voltage_B_C", 32067, 1, "U16", 10, "V", "grid_voltage_bc", "inverter"),
    R("line_voltage_C_A", 32068, 1, "U16", 10, "V", "grid_voltage_ca", "inverter"),
    R("phase_A_voltage", 32069, 1, "U16", 10, "V", "grid_voltage_a", "inverter"),
    R("phase_B_voltage", 32070, 1, "U16", 10, "V", "grid_voltage_b", "inverter"),
    R("phase_C_voltage", 32071, 1, "U16", 10, "V", "grid_voltage_c", "inverter"),
    R("phase_A_current", 32072, 2, "I32", 1000, "A", "grid_current_a", "inverter"),
    R("phase_B_current", 32074, 2, "I32", 1000, "A", "grid_current_b", "inverter"),
    R("phase_C_current", 32076, 2, "I32", 1000, "A", "grid_current_c", "inverter"),
    R("day_active_power_peak", 32078, 2, "I32", 1, "W", "power_peak_day", "inverter"),
    R("active_power", 32080, 2, "I32", 1, "W", "power_active", "inverter"),
    R("reactive_power", 32082, 2, "I32", 1, "var", "power_reactive", "inverter"),
    R("power_factor", 32084, 1, "I16", 1000, "", "power_factor", "inverter"),
    R("grid_frequency", 32085, 1, "U16", 100, "Hz", "grid_frequency", "inverter"),
    R("efficiency", 32086, 1, "U16", 100, "%", "efficiency", "inverter"),
    R("internal_temperature", 32087, 1, "I16", 10, "°C", "temperature_internal", "inverter"),
    R("insulation_resistance", 32088, 1, "U16", 1000, "MΩ", "insulation_resistance", "inverter"),
    R("device_status", 32089, 1, "U16", 1, "", "device_status", "inverter"),
    R("fault_code", 32090, 1, "U16", 1, "", "fault_code", "inverter"),
    R("accumulated_yield_energy", 32106, 2, "U32", 100, "kWh", "energy_yield_total", "inverter"),
    R("daily_yield_energy", 32114, 2, "U32", 100, "kWh", "energy_yield_day", "inverter"),
    R("meter_status", 37100, 1, "U16", 1, "", None, "meter"),
    R("grid_A_voltage", 37101, 2, "I32", 10, "V", "meter_voltage_a", "meter"),
    R("grid_B_voltage", 37103, 2, "I32", 10, "V", "meter_voltage_b", "meter"),
    R("grid_C_voltage", 37105, 2, "I32", 10, "V", "meter_voltage_c", "meter"),
    R("active_grid_A_current", 37107, 2, "I32", 100, "A", "meter_current_a", "meter"),
    R("active_grid_B_current", 37109, 2, "I32", 100, "A", "meter_current_b", "meter"),
    R("active_grid_C_current", 37111, 2, "I32", 100, "A", "meter_current_c", "meter"),
    R("power_meter_active_power", 37113, 2, "I32", 1, "W", "power_meter", "meter"),
    R("active_grid_frequency", 37118, 1, "I16", 100, "Hz", "meter_frequency", "meter"),
    R("grid_exported_energy", 37119, 2, "I32ABS", 100, "kWh", "meter_energy_export", "meter"),
    R("grid_accumulated_energy", 37121, 2, "I32", 100, "kWh", "meter_energy_import", "meter"),
    R("meter_type", 37125, 1, "U16", 1, "", "meter_type", "meter"),
    R("active_grid_A_power", 37132, 2, "I32", 1, "W", "meter_power_a", "meter"),
    R("active_grid_B_power", 37134, 2, "I32", 1, "W", "meter_power_b", "meter"),
    R("active_grid_C_power", 37136, 2, "I32", 1, "W", "meter_power_c", "meter"),
    # the device counts Wh; the catalog's energy unit is kWh
    R("storage_rated_capacity", 37758, 2, "U32", 1000, "kWh", "battery_capacity", "battery"),
    R("storage_state_of_capacity", 37760, 1, "U16", 10, "%", "battery_soc", "battery"),
    R("storage_running_status", 37762, 1, "U16", 1, "", "battery_status", "battery"),
    R("storage_charge_discharge_power", 37765, 2, "I32", 1, "W", "battery_power", "battery"),
    R("storage_total_charge", 37780, 2, "U32", 100, "kWh", "battery_energy_charged", "battery"),
    R("storage_total_discharge", 37782, 2, "U32", 100, "kWh", "battery_energy_discharged", "battery"),
    R("storage_current_day_charge_capacity", 37784, 2, "U32", 100, "kWh", "battery_energy_charged_day", "battery"),
    R("storage_current_day_discharge_capacity", 37786, 2, "U32", 100, "kWh", "battery_energy_discharged_day",
      "battery"),
)
BY_NAME = {r.name: r for r in REGISTERS}
OPTIONAL_BLOCKS = ("meter", "battery")
MAX_REQUEST = 64  # registers per read request
MAX_GAP = 16  # never read across this many registers no field uses: some firmwares answer them with errors
METRICS = {r.metric for r in REGISTERS if r.metric}


class Request(NamedTuple):
    """One read of contiguous registers covering several fields."""

    address: int
    count: int
    fields: tuple[Register, ...]


def requests(fields) -> list[Request]:
    """Group fields into as few reads as possible, each of at most MAX_REQUEST registers and no gap of MAX_GAP."""
    grouped: list[list[Register]] = []
    for field in sorted(fields, key=attrgetter("address")):
        if grouped:
            group = grouped[-1]
            gap = field.address - (group[-1].address + group[-1].count)
            if gap < MAX_GAP and field.address + field.count - group[0].address <= MAX_REQUEST:
                group.append(field)
                continue
        grouped.append([field])
    return [Request(g[0].address, g[-1].address + g[-1].count - g[0].address, tuple(g)) for g in grouped]


def poll_requests(strings: int) -> dict[str, list[Request]]:
    """The reads of one poll, per block, for an inverter with that many PV strings (only those are read)."""
    fields = {block: [r for r in REGISTERS if r.block == block] for block in ("inverter", *OPTIONAL_BLOCKS)}
    fields["inverter"] += PV[:2 * strings]
    return {block: requests(found) for block, found in fields.items()}


INFO_REQUESTS = requests(r for r in REGISTERS if r.block == "info")


def decode(field: Register, words: list[int]) -> float | str | None:
    """The physical value of a field, or None for the device's "not available" marker."""
    datatype, marker = TYPES[field.type]
    # latin-1 decodes any byte: a garbled name is logged as it came, never fatal
    value = ModbusClientMixin.convert_from_registers(words, datatype, string_encoding="latin-1")
    if field.type == "STR":
        return value.split("\0", 1)[0].strip()
    if value == marker:
        return None
    value /= field.gain
    return abs(value) if field.type == "I32ABS" else value


def encode(field: Register, value: float | str) -> list[int]:
    """The registers that hold a physical value (the simulator's side of decode)."""
    datatype, _ = TYPES[field.type]
    if field.type == "STR":
        return ModbusClientMixin.convert_to_registers(str(value)[:2 * field.count].ljust(2 * field.count, "\0"),
                                                      datatype)
    return ModbusClientMixin.convert_to_registers(round(float(value) * field.gain), datatype)


def decode_request(request: Request, words: list[int]) -> dict[Register, float | str | None]:
    """Every field of a request decoded from the registers it returned."""
    return {f: decode(f, words[f.address - request.address: f.address - request.address + f.count])
            for f in request.fields}
