"""The SUN2000 holding registers worth reading, as data, with the decoding that turns them into values.

Physical value = raw / gain; big-endian, high word first. Optional blocks (a power meter, a battery) answer
with Modbus exception 2 on inverters that lack them.
"""

from typing import NamedTuple


class Register(NamedTuple):
    """One register field: where it is, how to decode it, which metric stores it (None: logged only)."""

    name: str
    address: int
    count: int
    type: str  # U16, I16, U32, I32 or STR
    gain: float
    unit: str
    metric: str | None
    block: str  # info (read at connect), inverter, meter, battery


R = Register
REGISTERS = (
    R("model_name", 30000, 15, "STR", 1, "", None, "info"),
    R("serial_number", 30015, 10, "STR", 1, "", None, "info"),
    R("rated_power", 30073, 2, "U32", 1, "W", "rated_power", "info"),
    R("pv_01_voltage", 32016, 1, "I16", 10, "V", "pv_01_voltage", "inverter"),
    R("pv_01_current", 32017, 1, "I16", 100, "A", "pv_01_current", "inverter"),
    R("pv_02_voltage", 32018, 1, "I16", 10, "V", "pv_02_voltage", "inverter"),
    R("pv_02_current", 32019, 1, "I16", 100, "A", "pv_02_current", "inverter"),
    R("input_power", 32064, 2, "I32", 1, "W", "power_input", "inverter"),
    R("phase_A_voltage", 32069, 1, "U16", 10, "V", "grid_voltage_a", "inverter"),
    R("phase_B_voltage", 32070, 1, "U16", 10, "V", "grid_voltage_b", "inverter"),
    R("phase_C_voltage", 32071, 1, "U16", 10, "V", "grid_voltage_c", "inverter"),
    R("phase_A_current", 32072, 2, "I32", 1000, "A", "grid_current_a", "inverter"),
    R("phase_B_current", 32074, 2, "I32", 1000, "A", "grid_current_b", "inverter"),
    R("phase_C_current", 32076, 2, "I32", 1000, "A", "grid_current_c", "inverter"),
    R("active_power", 32080, 2, "I32", 1, "W", "power_active", "inverter"),
    R("reactive_power", 32082, 2, "I32", 1, "var", "power_reactive", "inverter"),
    R("power_factor", 32084, 1, "I16", 1000, "", "power_factor", "inverter"),
    R("grid_frequency", 32085, 1, "U16", 100, "Hz", "grid_frequency", "inverter"),
    R("efficiency", 32086, 1, "U16", 100, "%", "efficiency", "inverter"),
    R("internal_temperature", 32087, 1, "I16", 10, "°C", "temperature_internal", "inverter"),
    R("device_status", 32089, 1, "U16", 1, "", "device_status", "inverter"),
    R("accumulated_yield_energy", 32106, 2, "U32", 100, "kWh", "energy_yield_total", "inverter"),
    R("daily_yield_energy", 32114, 2, "U32", 100, "kWh", "energy_yield_day", "inverter"),
    R("meter_status", 37100, 1, "U16", 1, "", None, "meter"),
    R("power_meter_active_power", 37113, 2, "I32", 1, "W", "power_meter", "meter"),
    R("grid_exported_energy", 37119, 2, "I32", 100, "kWh", "meter_energy_export", "meter"),
    R("grid_accumulated_energy", 37121, 2, "I32", 100, "kWh", "meter_energy_import", "meter"),
    R("storage_state_of_capacity", 37760, 1, "U16", 10, "%", "battery_soc", "battery"),
    R("storage_charge_discharge_power", 37765, 2, "I32", 1, "W", "battery_power", "battery"),
)
OPTIONAL_BLOCKS = ("meter", "battery")
NOT_AVAILABLE = {"U16": 0xFFFF, "I16": 0x7FFF, "U32": 0xFFFFFFFF, "I32": 0x7FFFFFFF}
MAX_REQUEST = 64  # registers per read request
METRICS = {r.metric for r in REGISTERS if r.metric}


class Request(NamedTuple):
    """One read of contiguous registers covering several fields."""

    address: int
    count: int
    fields: tuple[Register, ...]


def requests(fields) -> list[Request]:
    """Group fields into as few contiguous reads of at most MAX_REQUEST registers as possible."""
    grouped: list[list[Register]] = []
    for field in sorted(fields, key=lambda f: f.address):
        if grouped and field.address + field.count - grouped[-1][0].address <= MAX_REQUEST:
            grouped[-1].append(field)
        else:
            grouped.append([field])
    return [Request(g[0].address, g[-1].address + g[-1].count - g[0].address, tuple(g)) for g in grouped]


def raw_value(field: Register, words: list[int]) -> int | str:
    """The field's raw integer (or text) from its registers."""
    if field.type == "STR":
        data = b"".join(word.to_bytes(2, "big") for word in words)
        return data.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
    raw = words[0] if field.count == 1 else (words[0] << 16) | words[1]
    if field.type.startswith("I") and raw >= 1 << (16 * field.count - 1):
        raw -= 1 << (16 * field.count)
    return raw


def decode(field: Register, words: list[int]) -> float | str | None:
    """The physical value of a field, or None for the device's "not available" marker."""
    raw = raw_value(field, words)
    if isinstance(raw, str):
        return raw
    unsigned = raw & ((1 << (16 * field.count)) - 1)
    if unsigned == NOT_AVAILABLE[field.type]:
        return None
    return raw / field.gain


def encode(field: Register, value: float | str) -> list[int]:
    """The registers that hold a physical value (the simulator's side of decode)."""
    if field.type == "STR":
        data = str(value).encode().ljust(2 * field.count, b"\0")[: 2 * field.count]
        return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]
    raw = round(float(value) * field.gain) & ((1 << (16 * field.count)) - 1)
    return [raw] if field.count == 1 else [raw >> 16, raw & 0xFFFF]


def decode_request(request: Request, words: list[int]) -> dict[Register, float | str | None]:
    """Every field of a request decoded from the registers it returned."""
    return {f: decode(f, words[f.address - request.address: f.address - request.address + f.count])
            for f in request.fields}
