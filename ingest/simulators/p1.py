"""Fluvius P1 telegrams as the meter writes them: fixed-width OBIS lines, CRLF, CRC16/ARC."""

from datetime import datetime

from ingest.simulators.household import BRUSSELS, Household, tariff


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


def telegram(house: Household) -> bytes:
    """The telegram the meter sends for the household's current state."""
    imported, exported = house.power
    kw = [p / 1000 for p in (imported, exported)]
    phase_import = [kw[0] / 3] * 3
    phase_export = [kw[1] / 3] * 3
    currents = [(imported + exported) / 3 / v for v in house.voltages]
    peak_time, peak = house.peak or (house.now, 0.0)
    gas_time, gas = house.gas_reading or (house.now, house.gas_m3)
    lines = [
        "/FLU5\\253769484_A", "",
        "0-0:96.1.4(50217)",
        "0-0:96.1.1(3153414733313031303231363035)",
        f"0-0:1.0.0({meter_time(house.now)})",
        f"1-0:1.8.1({house.import_kwh[0]:010.3f}*kWh)",
        f"1-0:1.8.2({house.import_kwh[1]:010.3f}*kWh)",
        f"1-0:2.8.1({house.export_kwh[0]:010.3f}*kWh)",
        f"1-0:2.8.2({house.export_kwh[1]:010.3f}*kWh)",
        f"1-0:1.4.0({house.demand() / 1000:06.3f}*kW)",
        f"1-0:1.6.0({meter_time(peak_time)})({peak / 1000:06.3f}*kW)",
        f"0-0:96.14.0({tariff(house.now):04d})",
        f"1-0:1.7.0({kw[0]:06.3f}*kW)",
        f"1-0:2.7.0({kw[1]:06.3f}*kW)",
        *(f"1-0:{code}.7.0({p:06.3f}*kW)" for code, p in zip((21, 41, 61), phase_import, strict=True)),
        *(f"1-0:{code}.7.0({p:06.3f}*kW)" for code, p in zip((22, 42, 62), phase_export, strict=True)),
        *(f"1-0:{code}.7.0({v:05.1f}*V)" for code, v in zip((32, 52, 72), house.voltages, strict=True)),
        *(f"1-0:{code}.7.0({a:06.2f}*A)" for code, a in zip((31, 51, 71), currents, strict=True)),
        "0-0:96.3.10(1)",
        "0-0:17.0.0(999.9*kW)",
        "1-0:31.4.0(999*A)",
        "0-0:96.13.0()",
        "0-1:24.1.0(003)",
        "0-1:96.1.1(37464C4F32313139303333373333)",
        "0-1:24.4.0(1)",
        f"0-1:24.2.3({meter_time(gas_time)})({gas:09.3f}*m3)",
        "!",
    ]
    return seal("\r\n".join(lines))

