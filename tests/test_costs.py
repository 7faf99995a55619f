"""energy.costs against an independent computation to the cent: fixed and dynamic contracts, a contract change in a
month, the DST days with 23 and 25 hourly prices, quarter-hour prices, gas in m3, the capacity tariff, no contract."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from psycopg import sql

from ingest import prices as price_import
from stack.settings import with_user
from tests.readings import BRUSSELS, local
from tests.tariffs import (
    CHANGED,
    FIXED,
    Tariff,
    expected_costs,
    household,
    march,
    stored_costs,
    write_household,
    write_prices,
)

DYNAMIC = dict(prices_include_vat=False, vat_rate=Decimal("0.06"), import_market_factor=Decimal("1.0825"),
               import_market_add=Decimal("0.1527"), export_market_factor=Decimal("0.9"),
               export_market_add=Decimal("-0.0113"), gas_kwh=Decimal("0.081"), gas_m3_to_kwh=Decimal("10.5"),
               fixed_year=Decimal("60"))
LEVELS = ("hour", "day", "week", "month")


def assert_costs(db, expected_by_level: dict[str, dict], complete_before: datetime) -> None:
    """Every stored period's row equals the expected one, and every expected complete period has a row."""
    for level, expected in expected_by_level.items():
        stored = stored_costs(db, level)
        assert stored, level
        for start, row in stored.items():
            assert start in expected and row == expected[start], (level, start, row)
        complete = {start for start in expected if start < complete_before and level != "week"}
        assert complete <= stored.keys(), level


@pytest.mark.parametrize("tariffs", [[FIXED], [FIXED, CHANGED]], ids=["fixed", "changed-on-the-16th"])
def test_a_fixed_contract_to_the_cent(db, tariffs):
    hours = march(db)
    for tariff in tariffs:
        tariff.insert(db)
    # February 3100 W and March 4200 W are billed: the twelve-month average of March is 3650 W
    average = {"2026-03": Decimal(3650)}
    expected = {level: expected_costs(hours, tariffs, level, average_w=average) for level in LEVELS}
    assert_costs(db, expected, local(2026, 3, 31, 0))
    month = stored_costs(db, "month")[local(2026, 3, 1, 0)]
    assert month == expected["month"][local(2026, 3, 1, 0)]
    assert len(stored_costs(db, "day")) == 31 and len(stored_costs(db, "hour")) == 743
    assert sum(start.astimezone(BRUSSELS).date() == date(2026, 3, 29) for start in stored_costs(db, "hour")) == 23
    assert db.execute("SELECT capacity_eur FROM energy.capacity_costs WHERE month = '2026-03'").fetchone() == (
        month["capacity_eur"],)
    if len(tariffs) == 2:  # the change splits exactly at the local midnight of the 16th
        days = stored_costs(db, "day")
        assert days[local(2026, 3, 15, 0)]["fixed_eur"] == Decimal("0.32")  # 118.50 / 365
        assert days[local(2026, 3, 16, 0)]["fixed_eur"] == Decimal("0.32")  # 96 x 1.21 / 365
        assert days[local(2026, 3, 16, 0)]["capacity_eur"] != days[local(2026, 3, 15, 0)]["capacity_eur"]


def test_gas_in_m3_at_the_contracts_factor_and_no_gas_price_no_gas_cost(db):
    hours = march(db)
    FIXED.insert(db)
    day = local(2026, 3, 10, 0)
    m3 = sum(h.gas_m3 for start, h in hours.items() if day <= start < day + timedelta(days=1))
    assert stored_costs(db, "day")[day]["gas_eur"] == (m3 * Decimal("10.472") * Decimal("0.0891")).quantize(
        Decimal("0.01"))
    db.execute("UPDATE energy.tariff SET gas_kwh = NULL")
    row = stored_costs(db, "day")[day]
    assert row["gas_eur"] is None
    assert row["total_eur"] == row["import_eur"] - row["export_eur"] + row["capacity_eur"] + row["fixed_eur"]


def test_a_month_without_a_contract_has_no_rows_not_zero(db):
    march(db)
    Tariff(date(2026, 4, 1), **{**DYNAMIC, "fixed_year": Decimal(10)}).insert(db)
    for level in (*LEVELS, "today"):
        assert stored_costs(db, level) == {}, level
    db.execute("DELETE FROM energy.tariff")
    Tariff(date(2026, 3, 2), **DYNAMIC).insert(db)  # from the 2nd: March as a month and its first week have none
    assert stored_costs(db, "month") == {}
    assert local(2026, 3, 1, 0) not in stored_costs(db, "day")
    assert local(2026, 3, 2, 0) in stored_costs(db, "day")


def import_prices(db_url: str, path) -> None:
    """python -m ingest.prices, in process, as the ingest role."""
    assert price_import.main([str(path), "--database-url", with_user(db_url, "energy_ingest")]) == 0


@pytest.mark.parametrize(("day", "length", "hours"), [
    (date(2025, 3, 30), timedelta(hours=1), 23),
    (date(2025, 10, 26), timedelta(hours=1), 25),
    (date(2026, 3, 29), timedelta(minutes=15), 23),
    (date(2025, 10, 26), timedelta(minutes=15), 25),
], ids=["spring-hourly", "autumn-hourly", "spring-quarter-hours", "autumn-quarter-hours"])
def test_a_dynamic_contract_prices_each_hour_at_its_own_market_price(db, db_url, tmp_path, day, length, hours):
    first = local(day.year, day.month, day.day - 1, 0)
    last = local(day.year, day.month, day.day + 1, 0)
    energy = household(first, last, seed=day.toordinal())
    write_household(db, energy)
    db.execute("CALL energy.run_aggregations(%s)", (last + timedelta(minutes=5),))
    steps = int((last - first) / length)
    prices = {first + n * length: Decimal(f"{(37 * n) % 211 - 20}.{n % 97:02d}") / 1000 for n in range(steps)}
    import_prices(db_url, write_prices(tmp_path / "prices.csv", prices, length))
    tariffs = [Tariff(date(2025, 1, 1), **DYNAMIC)]
    for tariff in tariffs:
        tariff.insert(db)
    market = {start: (length, price) for start, price in prices.items()}
    expected = {level: expected_costs(energy, tariffs, level, market) for level in ("hour", "day")}
    assert_costs(db, expected, last)
    midnight = local(day.year, day.month, day.day, 0)
    the_day = [start for start in stored_costs(db, "hour") if midnight <= start < last]
    assert len(the_day) == hours
    # the hours the autumn clock shows twice as 02:00 are two rows, each priced at its own market price
    twice = [start for start in the_day if start.astimezone(BRUSSELS).hour == 2]
    assert len(twice) == (2 if hours == 25 else 0)


def test_an_hour_without_a_market_price_is_unknown_not_free(db, db_url, tmp_path):
    first, last, missing = local(2025, 11, 4, 0), local(2025, 11, 5, 0), local(2025, 11, 4, 13)
    energy = household(first, last)
    assert energy[missing].imported_day + energy[missing].exported_day > 0  # energy flowed at an unknown price
    write_household(db, energy)
    db.execute("CALL energy.run_aggregations(%s)", (last + timedelta(minutes=5),))
    prices = {first + timedelta(hours=n): Decimal("0.08") + n / Decimal(1000) for n in range(24)}
    for name, part in (("a", lambda t: t < missing), ("b", lambda t: t > missing)):  # two files, one hour apart
        import_prices(db_url, write_prices(tmp_path / f"{name}.csv", {t: p for t, p in prices.items() if part(t)},
                                           timedelta(hours=1)))
    tariffs = [Tariff(date(2025, 1, 1), **DYNAMIC)]
    tariffs[0].insert(db)
    market = {t: (timedelta(hours=1), p) for t, p in prices.items() if t != missing}
    assert_costs(db, {level: expected_costs(energy, tariffs, level, market) for level in ("hour", "day")}, last)
    hour, day = stored_costs(db, "hour")[missing], stored_costs(db, "day")[first]
    assert hour["total_eur"] is None and hour["fixed_eur"] == Decimal("0.01")
    assert day["total_eur"] is None and day["fixed_eur"] == Decimal("0.17")  # 60 x 1.06 / 365


def test_today_so_far_counts_the_running_hour_and_the_whole_days_fees(db):
    now = datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    midnight = db.execute("SELECT date_trunc('day', now(), 'Europe/Brussels')").fetchone()[0]
    # hours since three hours before midnight, and what the running hour counted until a reading within it
    energy = household(midnight - timedelta(hours=3), hour + timedelta(hours=1))
    write_household(db, energy, last_reading=hour + (now - hour) / 2)
    db.execute("CALL energy.aggregate_hours(%s)", (now,))  # every complete hour stored, the running one not
    CHANGED.insert(db)
    today = {start: h for start, h in energy.items() if start >= midnight}
    assert stored_costs(db, "today") == expected_costs(today, [CHANGED], "today")


@pytest.mark.parametrize(("change", "constraint"), [
    ("vat_rate = 6", "tariff_vat_rate_is_a_fraction"),
    ("import_market_factor = 1, import_market_add = 0.1", "tariff_import_fixed_or_market"),
    ("import_day = NULL", "tariff_import_fixed_or_market"),
    ("export_market_factor = 1", "tariff_export_fixed_or_market"),
    ("gas_m3_to_kwh = NULL", "tariff_gas_price_needs_m3_to_kwh"),
    ("fixed_year = -1", "tariff_fees_not_negative"),
])
def test_a_contract_that_cannot_be_priced_is_refused_by_name(db, change, constraint):
    FIXED.insert(db)
    with pytest.raises(psycopg.errors.CheckViolation, match=constraint):
        db.execute(sql.SQL("UPDATE energy.tariff SET {}").format(sql.SQL(change)))


def test_prices_that_overlap_or_are_not_a_quarter_or_an_hour_are_refused(db):
    insert = "INSERT INTO energy.market_price VALUES (%s, %s, 0.1)"
    db.execute(insert, (local(2025, 11, 4, 10), local(2025, 11, 4, 11)))
    with pytest.raises(psycopg.errors.ExclusionViolation):
        db.execute(insert, (local(2025, 11, 4, 10, 45), local(2025, 11, 4, 11)))
    with pytest.raises(psycopg.errors.CheckViolation, match="market_price_quarter_or_hour"):
        db.execute(insert, (local(2025, 11, 4, 12), local(2025, 11, 4, 12, 30)))
    with pytest.raises(psycopg.errors.CheckViolation, match="market_price_aligned"):
        db.execute(insert, (local(2025, 11, 4, 12, 5), local(2025, 11, 4, 12, 20)))


def test_the_roles_see_money_only_through_the_views(db_url, db):
    FIXED.insert(db)
    with psycopg.connect(with_user(db_url, "energy_web"), autocommit=True) as web:
        assert web.execute("SHOW jit").fetchone() == ("off",)  # its small lookups never pay for a compilation
        for view in ("costs", "daily_fees", "fee_rates", "capacity_costs", "tariff_periods"):
            web.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier("energy", view))).fetchall()
        for statement in ("SELECT * FROM energy.tariff", "SELECT * FROM energy.market_price",
                          "INSERT INTO energy.market_price VALUES (now(), now() + interval '1 hour', 1)",
                          "UPDATE energy.tariff SET fixed_year = 0"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                web.execute(statement)
    with psycopg.connect(with_user(db_url, "energy_ingest"), autocommit=True) as ingest:
        ingest.execute("INSERT INTO energy.market_price VALUES ('2025-01-01 10:00+00', '2025-01-01 11:00+00', 0.1) "
                       "ON CONFLICT DO NOTHING")
        for statement in ("SELECT * FROM energy.market_price", "DELETE FROM energy.market_price",
                          "UPDATE energy.market_price SET eur_per_kwh = 0", "SELECT * FROM energy.tariff",
                          "INSERT INTO energy.tariff (valid_from, prices_include_vat, vat_rate, import_day, "
                          "import_night, export_day, export_night) VALUES ('2020-01-01', true, 0, 1, 1, 0, 0)",
                          "SELECT * FROM energy.costs"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                ingest.execute(statement)
