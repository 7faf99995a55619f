"""Test helpers for money: a household's hourly energy written as real meter readings, contracts, day-ahead price
files, and what energy.costs must show computed independently, in Decimal, from the rules as the README states them."""

import random
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import NamedTuple

from psycopg import sql

from tests.database import metric_id, write
from tests.readings import BRUSSELS, local, local_period, period_end

CENT = Decimal("0.01")
FLOW_METRICS = {"produced": ("sun2000", "energy_yield_total"), "imported_day": ("dsmr", "energy_import_t1"),
                "imported_night": ("dsmr", "energy_import_t2"), "exported_day": ("dsmr", "energy_export_t1"),
                "exported_night": ("dsmr", "energy_export_t2"), "gas_m3": ("dsmr", "gas_volume")}


class Hour(NamedTuple):
    """What the meters counted in one hour: kWh, and m3 of gas."""

    produced: Decimal
    imported_day: Decimal
    imported_night: Decimal
    exported_day: Decimal
    exported_night: Decimal
    gas_m3: Decimal


@dataclass(frozen=True)
class Tariff:
    """One row of energy.tariff."""

    valid_from: date
    prices_include_vat: bool
    vat_rate: Decimal
    import_day: Decimal | None = None
    import_night: Decimal | None = None
    export_day: Decimal | None = None
    export_night: Decimal | None = None
    gas_kwh: Decimal | None = None
    gas_m3_to_kwh: Decimal | None = None
    capacity_kw_year: Decimal = Decimal(0)
    fixed_year: Decimal = Decimal(0)
    import_market_factor: Decimal | None = None
    import_market_add: Decimal | None = None
    export_market_factor: Decimal | None = None
    export_market_add: Decimal | None = None

    def insert(self, conn) -> None:
        """Store the row."""
        names = [f.name for f in fields(self)]
        conn.execute(sql.SQL("INSERT INTO energy.tariff ({}) VALUES ({})").format(
            sql.SQL(", ").join(map(sql.Identifier, names)), sql.SQL(", ").join(sql.Placeholder() * len(names))),
            list(asdict(self).values()))

    @property
    def vat(self) -> Decimal:
        """What turns a price of this contract into one incl. VAT."""
        return Decimal(1) if self.prices_include_vat else 1 + self.vat_rate


def night_register(hour: datetime) -> bool:
    """Whether a Belgian dual-rate meter counts this hour on its night register: 22:00 to 07:00 and weekends."""
    wall = hour.astimezone(BRUSSELS)
    return wall.weekday() >= 5 or not 7 <= wall.hour < 22


def household(first: datetime, last: datetime, seed: int = 1) -> dict[datetime, Hour]:
    """Hourly energy of a house with panels and gas from first to last (UTC, whole hours): consumption, a solar
    curve by the local hour, the difference taken from or given to the grid on the register of the hour."""
    rng, hours, hour = random.Random(seed), {}, first
    while hour < last:
        wall = hour.astimezone(BRUSSELS)
        sun = max(0.0, 1 - abs(wall.hour + 0.5 - 13.5) / 6.5)
        produced = Decimal(f"{3.2 * sun * rng.uniform(0.3, 1.0):.3f}")
        used = Decimal(f"{rng.uniform(0.15, 1.4):.3f}")
        imported, exported = max(used - produced, Decimal(0)), max(produced - used, Decimal(0))
        night, zero = night_register(hour), Decimal(0)
        hours[hour] = Hour(produced, zero if night else imported, imported if night else zero,
                           zero if night else exported, exported if night else zero,
                           Decimal(f"{rng.uniform(0, 0.45):.3f}"))
        hour += timedelta(hours=1)
    return hours


def write_household(conn, hours: dict[datetime, Hour], last_reading: datetime | None = None) -> None:
    """The meters' counters as readings at every hour boundary, so that each hour's increase is its energy; the last
    hour's closing reading at last_reading (within that hour: what it counted so far) instead of at its end."""
    for index, (source, name) in enumerate(FLOW_METRICS.values()):
        total, readings = Decimal(1000), []
        for hour, energy in sorted(hours.items()):
            readings.append((hour, float(total)))
            total += energy[index]
        readings.append((last_reading or max(hours) + timedelta(hours=1), float(total)))
        write(conn, metric_id(conn, source, name), readings)


def write_prices(path: Path, prices: dict[datetime, Decimal], length: timedelta) -> Path:
    """Day-ahead prices (EUR/kWh by UTC start) as the ENTSO-E Transparency Platform exports them: market time with
    (CET)/(CEST), EUR/MWh."""
    lines = ['"MTU (CET/CEST)","Area","Sequence","Day-ahead Price (EUR/MWh)"']
    for start, price in sorted(prices.items()):
        moments = [(t.astimezone(BRUSSELS)) for t in (start, start + length)]
        mtu = " - ".join(f"{t:%d/%m/%Y %H:%M:%S} ({t.tzname()})" for t in moments)
        lines.append(f'"{mtu}","BZN|BE","Without Sequence","{price * 1000}"')
    path.write_text("\n".join(lines) + "\n")
    return path


def tariff_of(tariffs: list[Tariff], day: date) -> Tariff | None:
    """The contract valid on a local day."""
    valid = [t for t in tariffs if t.valid_from <= day]
    return max(valid, key=lambda t: t.valid_from) if valid else None


def market_price(prices: dict[datetime, tuple[timedelta, Decimal]], hour: datetime) -> Decimal | None:
    """The hour's market price: its prices weighted by their length, when they cover it all."""
    inside = [(length, price) for start, (length, price) in prices.items() if hour <= start < hour + timedelta(hours=1)]
    if sum((length for length, _ in inside), timedelta()) != timedelta(hours=1):
        return None
    return sum(price * Decimal(length.total_seconds()) for length, price in inside) / 3600


def hour_amounts(energy: Hour, tariff: Tariff, market: Decimal | None) -> dict[str, Decimal | None]:
    """The money of one hour, unrounded; None where energy flowed at an unknown price."""
    def price(day, night, factor, add):
        if factor is None:
            return day, night
        dynamic = None if market is None else factor * market + add
        return dynamic, dynamic

    def cost(kwh_prices):
        if all(kwh == 0 for kwh, _ in kwh_prices):
            return Decimal(0)
        return None if any(p is None for _, p in kwh_prices) else sum(kwh * p for kwh, p in kwh_prices)

    i_day, i_night = price(tariff.import_day, tariff.import_night, tariff.import_market_factor,
                           tariff.import_market_add)
    e_day, e_night = price(tariff.export_day, tariff.export_night, tariff.export_market_factor,
                           tariff.export_market_add)
    imported = cost([(energy.imported_day, i_day), (energy.imported_night, i_night)])
    self_consumed = max(energy.produced - energy.exported_day - energy.exported_night, Decimal(0))
    grid_day = energy.imported_day + energy.exported_day
    grid = grid_day + energy.imported_night + energy.exported_night
    # the registers the meter counted on in the hour say which price the self-consumed energy displaced
    share_day = Decimal(1) if grid == 0 else grid_day / grid
    saving = cost([(self_consumed * share_day, i_day), (self_consumed * (1 - share_day), i_night)])
    return {"import_eur": None if imported is None else imported * tariff.vat,
            "export_eur": cost([(energy.exported_day, e_day), (energy.exported_night, e_night)]),
            "gas_eur": None if tariff.gas_kwh is None else energy.gas_m3 * tariff.gas_m3_to_kwh * tariff.gas_kwh
            * tariff.vat,
            "solar_saving_eur": None if saving is None else saving * tariff.vat}


def day_fees(day: date, tariff: Tariff, average_w: dict[str, Decimal]) -> tuple[Decimal | None, Decimal]:
    """A local day's capacity tariff (None without a known peak for its month) and fixed fees, incl. VAT."""
    month_days = ((day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).day
    year_days = (date(day.year + 1, 1, 1) - date(day.year, 1, 1)).days
    average = average_w.get(f"{day:%Y-%m}")
    capacity = None if average is None else average / 1000 * tariff.capacity_kw_year / 12 / month_days * tariff.vat
    return capacity, tariff.fixed_year / year_days * tariff.vat


def local_days(start: datetime, end: datetime) -> list[date]:
    """The local dates of the days from start to end (UTC)."""
    first, last = start.astimezone(BRUSSELS).date(), (end - timedelta(microseconds=1)).astimezone(BRUSSELS).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def day_hours(day: date) -> int:
    """23, 24 or 25: the hours of a local day."""
    midnight = datetime.combine(day, datetime.min.time(), BRUSSELS)
    following = datetime.combine(day + timedelta(days=1), datetime.min.time(), BRUSSELS)
    return int((following.astimezone(UTC) - midnight.astimezone(UTC)).total_seconds() // 3600)


def cents(value: Decimal | None) -> Decimal | None:
    """Rounded to the cent, half away from zero as PostgreSQL rounds."""
    return None if value is None else value.quantize(CENT, ROUND_HALF_UP)


def expected_costs(hours: dict[datetime, Hour], tariffs: list[Tariff], level: str,
                   prices: dict[datetime, tuple[timedelta, Decimal]] | None = None,
                   average_w: dict[str, Decimal] | None = None) -> dict[datetime, dict]:
    """What energy.costs must say per period of a level ('hour', 'day', 'week', 'month', or 'today' for the local
    day of the hours): the sum of its hours' money and its days' fees, each part rounded to the cent, for the
    periods a contract covers from their first day."""
    unit = "day" if level == "today" else level
    sums: dict[datetime, dict] = {}
    for hour, energy in hours.items():
        tariff = tariff_of(tariffs, hour.astimezone(BRUSSELS).date())
        if tariff is None:
            continue
        amounts = hour_amounts(energy, tariff, market_price(prices or {}, hour))
        row = sums.setdefault(local_period(hour, unit), {})
        for name, value in amounts.items():
            row[name] = None if value is None or (name in row and row[name] is None) else row.get(name, 0) + value
    result = {}
    for start, row in sums.items():
        days = local_days(start, period_end(start, unit))
        if tariff_of(tariffs, days[0]) is None:
            continue
        fees = [day_fees(day, tariff_of(tariffs, day), average_w or {}) for day in days]
        share = Decimal(1) / day_hours(days[0]) if level == "hour" else Decimal(1)
        capacity = None if any(c is None for c, _ in fees) else sum(c for c, _ in fees) * share
        parts = {name: cents(value) for name, value in row.items()}
        parts |= {"capacity_eur": cents(capacity), "fixed_eur": cents(sum(f for _, f in fees) * share)}
        parts["total_eur"] = None if parts["import_eur"] is None or parts["export_eur"] is None else (
            parts["import_eur"] - parts["export_eur"] + (parts["gas_eur"] or 0) + (parts["capacity_eur"] or 0)
            + parts["fixed_eur"])
        result[start] = parts
    return result


COLUMNS = ("import_eur", "export_eur", "gas_eur", "capacity_eur", "fixed_eur", "total_eur", "solar_saving_eur")


def stored_costs(conn, level: str) -> dict[datetime, dict]:
    """What energy.costs says per period of a level."""
    query = sql.SQL("SELECT period_start, {} FROM energy.costs WHERE level = %s").format(
        sql.SQL(", ").join(map(sql.Identifier, COLUMNS)))
    rows = conn.execute(query, (level,)).fetchall()
    return {row[0]: dict(zip(COLUMNS, row[1:], strict=True)) for row in rows}


# Two contracts of one household: a fixed one, and another from the 16th of March 2026.
FIXED = Tariff(date(2026, 3, 1), prices_include_vat=True, vat_rate=Decimal("0.06"), import_day=Decimal("0.3512"),
               import_night=Decimal("0.2789"), export_day=Decimal("0.0415"), export_night=Decimal("0.0327"),
               gas_kwh=Decimal("0.0891"), gas_m3_to_kwh=Decimal("10.472"), capacity_kw_year=Decimal("53.2549"),
               fixed_year=Decimal("118.50"))
# From the 16th: prices without VAT (21 %), other figures.
CHANGED = Tariff(date(2026, 3, 16), prices_include_vat=False, vat_rate=Decimal("0.21"), import_day=Decimal("0.2917"),
                 import_night=Decimal("0.2233"), export_day=Decimal("0.0502"), export_night=Decimal("0.0444"),
                 gas_kwh=Decimal("0.0765"), gas_m3_to_kwh=Decimal("10.31"), capacity_kw_year=Decimal("49.87"),
                 fixed_year=Decimal("96.00"))


def march(db) -> dict:
    """March 2026 (a 23-hour day on the 29th) of a household, aggregated, with peaks in February and March."""
    hours = household(local(2026, 3, 1, 0), local(2026, 4, 1, 0))
    write_household(db, hours)
    write(db, metric_id(db, "dsmr", "demand_max_month"), [(local(2026, 2, 10, 18, 15), 3100.0),
                                                           (local(2026, 3, 12, 7, 45), 4200.0)])
    db.execute("CALL energy.run_aggregations(%s)", (local(2026, 4, 1, 0, 5),))
    return hours
