"""Fluvius P1 telegrams as the meter writes them: fixed-width OBIS lines, CRLF, CRC16/ARC; and the variants
real installations send (a Dutch meter, more M-Bus devices, an empty slot, placeholder times, corrupt values)."""

from dataclasses import dataclass
from datetime import datetime

from ingest.simulators.household import BRUSSELS, Household, tariff

PLACEHOLDER = "632525252525"  # what meters send for an unknown capture time, followed by S or W
EMPTY_SLOT_TIME = "700101010000W"  # what some meters send in an M-Bus slot with no device


@dataclass(frozen=True)
class Variant:
    """How the simulated installation differs from a Fluvius meter with one gas meter."""

    dutch: bool = False  # a Dutch DSMR 5 meter: its identification and version line, no capacity-tariff lines
    empty_slot: bool = False  # M-Bus channel 2 holds an empty slot (type 003, no identifier, no unit, 1970)
    second_gas: bool = False  # a second gas meter on channel 3
    heat: bool = False  # a heat meter counting GJ on channel 4
    placeholder: bool = False  # the gas capture time and the month's peak time are placeholders
    implausible: bool = False  # CRC-correct but impossible: 999999999.965 kWh imported, -99.999 kW drawn


def crc16(data: bytes) -> int:
    """CRC16/ARC (polynomial 0xA001 reflected, initial 0), as DSMR 5 specifies."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def meter_time(ts: datetime) -> str:
    """YYMMDDhhmmss plus S (summer) or W (winter), in Belgian local time."""
    local = ts.astimezone(BRUSSELS)
    return local.strftime("%y%m%d%H%M%S") + ("S" if local.dst() else "W")


def seal(body: str) -> bytes:
    """The telegram body (from '/' up to and including '!') with its CRC and line end."""
    data = body.encode("ascii")
    return data + f"{crc16(data):04X}\r\n".encode("ascii")


def telegram(house: Household, variant: Variant = Variant()) -> bytes:
    """The telegram the meter sends for the household's current state."""
    imported, exported = house.power
    kw = [p / 1000 for p in (imported, exported)]
    phase_import = [kw[0] / 3] * 3
    phase_export = [kw[1] / 3] * 3
    currents = [(imported + exported) / 3 / v for v in house.voltages]
    peak_time, peak = house.peak or (house.now, 0.0)
    gas_time, gas = house.gas_reading or (house.now, house.gas_m3)
    import_t1 = 999999999.965 if variant.implausible else house.import_kwh[0]
    lines = [
        "/ISk5\\2MT382-1000" if variant.dutch else "/FLU5\\253769484_A", "",
        "1-3:0.2.8(50)" if variant.dutch else "0-0:96.1.4(50217)",
        "0-0:96.1.1(3153414733313031303231363035)",
        f"0-0:1.0.0({meter_time(house.now)})",
        f"1-0:1.8.1({import_t1:010.3f}*kWh)",
        f"1-0:1.8.2({house.import_kwh[1]:010.3f}*kWh)",
        f"1-0:2.8.1({house.export_kwh[0]:010.3f}*kWh)",
        f"1-0:2.8.2({house.export_kwh[1]:010.3f}*kWh)",
        *([] if variant.dutch else [
            f"1-0:1.4.0({house.demand() / 1000:06.3f}*kW)",
            f"1-0:1.6.0({PLACEHOLDER + 'W' if variant.placeholder else meter_time(peak_time)})"
            f"({peak / 1000:06.3f}*kW)"]),
        f"0-0:96.14.0({tariff(house.now):04d})",
        f"1-0:1.7.0({-99.999 if variant.implausible else kw[0]:06.3f}*kW)",
        f"1-0:2.7.0({kw[1]:06.3f}*kW)",
        *(f"1-0:{code}.7.0({p:06.3f}*kW)" for code, p in zip((21, 41, 61), phase_import, strict=True)),
        *(f"1-0:{code}.7.0({p:06.3f}*kW)" for code, p in zip((22, 42, 62), phase_export, strict=True)),
        *(f"1-0:{code}.7.0({v:05.1f}*V)" for code, v in zip((32, 52, 72), house.voltages, strict=True)),
        *(f"1-0:{code}.7.0({a:06.2f}*A)" for code, a in zip((31, 51, 71), currents, strict=True)),
        "0-0:96.3.10(1)",
        "0-0:17.0.0(999.9*kW)",
        "1-0:31.4.0(999*A)",
        "0-0:96.13.0()",
        *mbus_lines(variant, gas_time, gas),
        "!",
    ]
    return seal("\r\n".join(lines))


def mbus_lines(variant: Variant, captured: datetime, gas: float) -> list[str]:
    """The M-Bus devices' lines: the gas meter on channel 1, then what the variant adds."""
    stamp = meter_time(captured)
    lines = ["0-1:24.1.0(003)", "0-1:96.1.1(37464C4F32313139303333373333)", "0-1:24.4.0(1)",
             f"0-1:24.2.{1 if variant.dutch else 3}({PLACEHOLDER + 'S' if variant.placeholder else stamp})"
             f"({gas:09.3f}*m3)"]
    if variant.empty_slot:
        lines += ["0-2:24.1.0(003)", "0-2:96.1.1()", f"0-2:24.2.3({EMPTY_SLOT_TIME})(00000000)"]
    if variant.second_gas:
        lines += ["0-3:24.1.0(003)", "0-3:96.1.1(37464C4F32313139303333373334)", "0-3:24.4.0(1)",
                  f"0-3:24.2.3({stamp})({second_gas(gas):09.3f}*m3)"]
    if variant.heat:
        lines += ["0-4:24.1.0(004)", "0-4:96.1.1(3448454154313233343536373839)",
                  f"0-4:24.2.1({stamp})({heat_gj(gas):09.3f}*GJ)"]
    return lines


def second_gas(gas_m3: float) -> float:
    """The second gas meter (a workshop's heater, say) uses a quarter of what the house does."""
    return round(300 + (gas_m3 - 1500) / 4, 3)


def heat_gj(gas_m3: float) -> float:
    """A heat meter delivering heat like the house's gas would: 0.0317 GJ per m3 (Groningen gas's 31.7 MJ)."""
    return round(12 + (gas_m3 - 1500) * 0.0317, 3)
