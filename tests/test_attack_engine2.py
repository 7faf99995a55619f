"""A second hostile review of the engine, after issue 10's changes: the winning source per hour (hour_flows), "so
far" figures with outages (agg_hour_running), counters judged only once they move (counter_step), the bounded
steps spread (spread_counter_steps). Inputs are shaped like real devices; every figure wanted is worked out here by
hand or by Python with zoneinfo, never by the engine's own rules."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from tests.database import aggregates, metric_id, run_jobs, write
from tests.pg import fresh_database
from tests.readings import BRUSSELS, after, expected, local, local_period


def flows(conn, level: str, column: str) -> dict[date, float]:
    """One column of energy.flows at one level, by local date."""
    query = sql.SQL("SELECT local_start::date, {} FROM energy.flows WHERE level = %s").format(sql.Identifier(column))
    return {d: float(v) for d, v in conn.execute(query, (level,))}


# --- the winning source per hour ---------------------------------------------------------------------------------


def test_a_portal_day_covering_half_of_an_outage_loses_nothing_of_the_meter_increase(db):
    # The P1 collector is down from July 1 18:00 to July 2 12:00. The user imports the Mijn Fluvius export of July 2
    # (the portal gives whole days; July 1 was not downloaded). The house takes 0.5 kWh a quarter in the evening,
    # 0.05 at night (00:00-07:00) and 0.3 in the morning; after 12:00 the meter and the portal agree.
    meter = metric_id(db, "dsmr", "energy_import_t1")
    portal = metric_id(db, "fluvius", "energy_import_t1")
    quarters = [local(2026, 7, 1, 18) + timedelta(minutes=15 * i) for i in range(72 + 24)]  # to July 2 17:45

    def amount(ts: datetime) -> float:
        return 0.5 if ts < local(2026, 7, 2) else 0.05 if ts < local(2026, 7, 2, 7) else 0.3
    before = [(local(2026, 7, 1, 12) + timedelta(minutes=10 * i), round(5000.0 + 0.1 * i, 3)) for i in range(37)]
    resumed = round(before[-1][1] + sum(amount(ts) for ts in quarters[:72]), 3)  # 5003.6 + 19.4
    live = [(local(2026, 7, 2, 12) + timedelta(minutes=10 * i), round(resumed + 0.2 * i, 3)) for i in range(37)]
    write(db, meter, before + live)  # 1.2 kWh an hour after 12:00 as well: 0.3 a quarter
    write(db, portal, [(ts, amount(ts)) for ts in quarters if ts >= local(2026, 7, 2)])
    run_jobs(db, local(2026, 7, 4, 3))
    imported = flows(db, "day", "imported_kwh")
    truth = {date(2026, 7, 1): 3.6 + 6 * 2.0, date(2026, 7, 2): 7 * 0.2 + 5 * 1.2 + 6 * 1.2}
    assert sum(imported.values()) == pytest.approx(live[-1][1] - before[0][1])
    assert imported == {d: pytest.approx(v) for d, v in truth.items()}
    evening = db.execute("SELECT imported_kwh FROM energy.flows WHERE level = 'hour' AND local_start >= "
                         "'2026-07-01 18:00' AND local_start < '2026-07-02 00:00' ORDER BY local_start")
    assert [float(v) for (v,) in evening] == [pytest.approx(2.0)] * 6  # what the portal's hours leave of the step


def test_two_solar_sources_with_overlapping_outages_make_one_days_production(db):
    # A July day of a ramping production (kWh per hour below). The Modbus collector cannot reach the inverter from
    # 10:00 to 16:00; FusionSolar's 5-minute counter has a hole from 08:00 to 12:00 (the dongle's upload failed).
    # Both read the same register.
    rate = {6: 0.5, 7: 1.0, 8: 1.0, 9: 1.0, 10: 3.0, 11: 3.0, 12: 4.0, 13: 4.0, 14: 3.0, 15: 2.0, 16: 1.0, 17: 0.5}
    readings, value = [], 2000.0
    for i in range(12 * 12 + 1):
        ts = local(2026, 7, 8, 6) + timedelta(minutes=5 * i)
        readings.append((ts, round(value, 4)))
        value += rate.get(ts.astimezone(BRUSSELS).hour, 0.0) / 12
    inverter = metric_id(db, "sun2000", "energy_yield_total")
    cloud = metric_id(db, "fusionsolar", "energy_yield_total")
    write(db, inverter, [r for r in readings if not local(2026, 7, 8, 10) <= r[0] < local(2026, 7, 8, 16)])
    write(db, cloud, [r for r in readings if not local(2026, 7, 8, 8) <= r[0] < local(2026, 7, 8, 12)])
    run_jobs(db, local(2026, 7, 10, 3))
    assert sum(rate.values()) == pytest.approx(24.0)
    assert flows(db, "day", "produced_kwh") == {date(2026, 7, 8): pytest.approx(24.0, abs=0.001)}


def test_hourly_gas_at_59_and_61_minutes_with_the_portal_over_the_autumn_night(db):
    # The meter captures gas once an hour, nominally at HH:00, but its clock drifts: some steps take 59 minutes,
    # some 61. The portal has the hourly gas of the same night, October 25 2026, the 25-hour day whose 02:00 hour
    # comes twice. The house takes 0.4 m3 an hour, 1.0 from 06:00 (heating). Whichever source gives an hour, each
    # hour holds the gas of that hour, and the day the 25 hours' gas.
    gas = metric_id(db, "dsmr", "gas_volume")
    portal = metric_id(db, "fluvius", "gas_volume")
    hours = [local(2026, 10, 25) + timedelta(hours=i) for i in range(26)]  # UTC hours: 02:00+02 and 02:00+01
    assert len({h.astimezone(BRUSSELS).replace(tzinfo=None) for h in hours[:25]}) == 24

    def rate(ts: datetime) -> float:
        return 1.0 if ts.astimezone(BRUSSELS).hour >= 6 else 0.4
    volume, readings = 3000.0, []
    for i, start in enumerate(hours):
        drift = timedelta(minutes=(-1, 0, 1)[i % 3])  # 59, 61 and 60-minute steps in turn
        at = start + drift
        readings.append((at, round(volume + rate(start) * drift / timedelta(hours=1), 4)))
        volume += rate(start)
    write(db, gas, readings)
    write(db, portal, [(start, rate(start)) for start in hours[:25]])
    run_jobs(db, local(2026, 10, 27, 3))
    hourly = {start: float(v) for start, v in db.execute(
        "SELECT period_start, gas_m3 FROM energy.flows WHERE level = 'hour'")}
    for start in hours[1:24]:
        assert hourly[start] == pytest.approx(rate(start), abs=0.02), start.astimezone(BRUSSELS)
    truth = sum(rate(start) for start in hours[:25])  # 7 hours at 0.4 (two of them 02:00), 18 at 1.0
    assert truth == pytest.approx(7 * 0.4 + 18 * 1.0)
    assert flows(db, "day", "gas_m3")[date(2026, 10, 25)] == pytest.approx(truth, abs=0.02)


# --- "so far" figures -------------------------------------------------------------------------------------------
# The views read the real clock: the data is built around now(), and each truth is the part after local midnight.


def solar(first: datetime, last: datetime, origin: datetime) -> list[tuple[datetime, float]]:
    """A yield counter read every 5 minutes from first to last, the panels making 1.2 kWh an hour since origin."""
    count = int((last - first) / timedelta(minutes=5)) + 1
    times = [first + timedelta(minutes=5 * i) for i in range(count)]
    return [(ts, round(8000.0 + 1.2 * (ts - origin) / timedelta(hours=1), 4)) for ts in times]


def test_today_so_far_with_the_inverter_back_after_the_cloud_filled_its_hours(db):
    # The SUN2000 collector crashes three hours ago; FusionSolar keeps its 5-minute counter; the hourly job runs on
    # time; the collector is restarted a minute ago and reads the inverter's register. The panels make 1.2 kWh an
    # hour all along, and both sources read the same register.
    inverter = metric_id(db, "sun2000", "energy_yield_total")
    cloud = metric_id(db, "fusionsolar", "energy_yield_total")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    origin = now - timedelta(hours=6)
    write(db, cloud, solar(origin, now - timedelta(minutes=5), origin))
    write(db, inverter, solar(origin, now - timedelta(hours=3), origin))
    run_jobs(db, now - timedelta(minutes=2), "aggregate_hours")
    back = solar(now - timedelta(minutes=1), now - timedelta(minutes=1), origin)
    write(db, inverter, back)
    inverter_alone = solar(origin, now - timedelta(hours=3), origin) + back
    midnight = local_period(datetime.now(UTC), "day")
    produced = db.execute("SELECT produced_kwh FROM energy.flows WHERE level = 'today'").fetchone()[0]
    assert float(produced) == pytest.approx(after(inverter_alone, midnight), abs=0.11)  # the cloud's last 5 min
    # yesterday and today in the history, whatever the hour (just after midnight the outage was yesterday's)
    yesterday = local_period(midnight - timedelta(hours=1), "day")
    history = db.execute("SELECT sum(produced_kwh) FROM energy.history('day', %s, %s)", (
        yesterday.astimezone(BRUSSELS).date(), midnight.astimezone(BRUSSELS).date() + timedelta(days=1))).fetchone()
    assert float(history[0]) == pytest.approx(after(inverter_alone, yesterday), abs=0.11)


def test_an_outage_over_midnight_is_shared_between_yesterday_and_today_before_and_after_the_jobs(db):
    # The P1 collector loses the database at 22:00 yesterday (local) and is back a minute ago; pg_cron ran every
    # hour meanwhile, so yesterday is stored without the outage. The meter counted 0.9 kWh an hour all along.
    meter = metric_id(db, "dsmr", "energy_import_t1")
    now = datetime.now(UTC).replace(microsecond=0)
    midnight = local_period(now, "day")
    yesterday = local_period(midnight - timedelta(hours=1), "day")
    first = yesterday + timedelta(hours=20)

    def value(ts: datetime) -> float:
        return round(2000.0 + 0.9 * (ts - first) / timedelta(hours=1), 4)
    before = [(first + timedelta(minutes=10 * i), 0.0) for i in range(13)]  # 20:00 to 22:00
    readings = [(ts, value(ts)) for ts, _ in before] + [(now - timedelta(minutes=1), value(now - timedelta(minutes=1)))]
    write(db, meter, readings[:-1])
    run_jobs(db, now - timedelta(minutes=2))
    write(db, meter, readings[-1:])
    today_truth, yesterday_truth = after(readings, midnight), after(readings, yesterday) - after(readings, midnight)
    so_far = db.execute("SELECT delta FROM energy.today WHERE source = 'dsmr' AND metric = 'energy_import_t1'")
    assert so_far.fetchone()[0] == pytest.approx(today_truth, abs=1e-6)
    assert float(db.execute("SELECT imported_kwh FROM energy.flows WHERE level = 'today'").fetchone()[0]) == (
        pytest.approx(today_truth, abs=0.001))
    history = {d: float(v) for d, v in db.execute(
        "SELECT local_start::date, imported_kwh FROM energy.history('day', %s, %s)",
        (yesterday.astimezone(BRUSSELS).date(), now.astimezone(BRUSSELS).date() + timedelta(days=1)))}
    assert history == {yesterday.astimezone(BRUSSELS).date(): pytest.approx(yesterday_truth, abs=0.001),
                       now.astimezone(BRUSSELS).date(): pytest.approx(today_truth, abs=0.001)}
    # the next job, then the first one after midnight: the stored days say what the page said
    run_jobs(db, now + timedelta(minutes=5))
    run_jobs(db, local_period(now + timedelta(days=1), "day") + timedelta(hours=1))
    days = {start: row["delta"] for start, row in aggregates(db, "day", meter).items()}
    assert days == {yesterday: pytest.approx(yesterday_truth, abs=1e-6), midnight: pytest.approx(today_truth, abs=1e-6)}


# --- counters judged once they move -----------------------------------------------------------------------------


def inverter_day(glitch: dict[datetime, float]) -> list[tuple[datetime, float]]:
    """June 10: the SUN2000's yield register read every 5 minutes from 06:00 to 18:00 (0.1 kWh each, 14.4 kWh),
    with the readings in glitch replaced by what the dongle answered."""
    readings = []
    for i in range(145):
        ts = local(2026, 6, 10, 6) + timedelta(minutes=5 * i)
        readings.append((ts, glitch.get(ts, round(12388.0 + 0.1 * i, 3))))
    return readings


def test_a_torn_read_among_the_zeros_of_a_lost_link_is_no_energy(db):
    # The SDongle loses its link from 06:30 to 07:55 and answers 0 for energy_yield_total; at 07:40 one read is torn
    # (the high word 0, the low word of 12,388.0 kWh x 100 = 0x0012E730: 0xE730 = 59184, 591.84 kWh). Then the
    # register reads on. The panels made 14.4 kWh that day.
    yield_total = metric_id(db, "sun2000", "energy_yield_total")
    zeros = {local(2026, 6, 10, 6, 30) + timedelta(minutes=5 * i): 0.0 for i in range(18)}
    assert 0xE730 / 100 == 591.84
    write(db, yield_total, inverter_day(zeros | {local(2026, 6, 10, 7, 40): 591.84}))
    run_jobs(db, local(2026, 6, 11, 3))
    assert aggregates(db, "day", yield_total)[local(2026, 6, 10)]["delta"] == pytest.approx(14.4)
    produced = flows(db, "day", "produced_kwh")
    assert produced == {date(2026, 6, 10): pytest.approx(14.4)}


def test_a_new_export_register_reading_zero_all_night_counts_its_first_watt_hours(db):
    # Fluvius swaps the meter at 20:10: the old export register read 5321.4 at 20:00; the new one reads 0.0 from
    # 20:20 all night (no sun), first exports 0.004 at 07:10 and 1.2 kWh an hour from 08:00 to 12:00 (read every
    # 10 minutes). What was exported: 0.004 + 4.8 kWh after the swap.
    export = metric_id(db, "dsmr", "energy_export_t1")
    old = [(local(2026, 4, 14, 19) + timedelta(minutes=10 * i), round(5320.2 + 0.2 * i, 3)) for i in range(7)]
    night = [(local(2026, 4, 14, 20, 20) + timedelta(minutes=10 * i), 0.0) for i in range(65)]  # to 07:00
    morning = [(local(2026, 4, 15, 7, 10), 0.004)]
    morning += [(local(2026, 4, 15, 8) + timedelta(minutes=10 * i), round(0.004 + 0.2 * i, 3)) for i in range(25)]
    write(db, export, old + night + morning)
    run_jobs(db, local(2026, 4, 16, 3))
    days = {start.astimezone(BRUSSELS).date(): row["delta"] for start, row in aggregates(db, "day", export).items()}
    assert days == {date(2026, 4, 14): pytest.approx(1.2), date(2026, 4, 15): pytest.approx(0.004 + 4.8)}
    exported = flows(db, "day", "exported_kwh")
    assert exported == {date(2026, 4, 14): pytest.approx(1.2), date(2026, 4, 15): pytest.approx(4.804)}


def three_kw_days() -> list[tuple[datetime, float]]:
    """July 1-4 of an inverter's yield register read every 5 minutes, the panels making 3 kWh an hour 06:00-18:00."""
    readings, value = [], 1000.0
    for i in range(4 * 288):
        ts = local(2026, 7, 1) + timedelta(minutes=5 * i)
        readings.append((ts, round(value, 3)))
        value += 0.25 if 6 <= ts.astimezone(BRUSSELS).hour < 18 else 0.0
    return readings


def test_days_of_zeros_from_the_dongle_are_no_readings(db):
    # The SDongle loses the inverter on July 1 at 18:05 and answers 0 until July 4 05:55; the register then reads
    # on. The panels made 3 kWh an hour from 06:00 to 18:00 every day. Zeros carry no information: the figures must
    # be those of the same days with no readings between July 1 18:00 and July 4 06:00.
    yield_total = metric_id(db, "sun2000", "energy_yield_total")
    readings = three_kw_days()
    down = local(2026, 7, 1, 18, 5), local(2026, 7, 4, 6)
    write(db, yield_total, [(ts, 0.0 if down[0] <= ts < down[1] else v) for ts, v in readings])
    run_jobs(db, local(2026, 7, 6, 3))
    wanted = expected([(ts, v) for ts, v in readings if not down[0] <= ts < down[1]], "day", counter=True)
    days = aggregates(db, "day", yield_total)
    assert {start: row["delta"] for start, row in days.items()} == {
        start: pytest.approx(row["delta"]) for start, row in wanted.items()}


def test_zeros_ending_within_an_hour_are_no_readings_either(db):
    # As above, but the register reads on at 06:25 on July 4, the hour starting with five zeros: every hour holds
    # what it holds with no readings at all between July 1 18:00 and 06:25 (the step spread in proportion to time).
    yield_total = metric_id(db, "sun2000", "energy_yield_total")
    readings = three_kw_days()
    down = local(2026, 7, 1, 18, 5), local(2026, 7, 4, 6, 25)
    write(db, yield_total, [(ts, 0.0 if down[0] <= ts < down[1] else v) for ts, v in readings])
    run_jobs(db, local(2026, 7, 6, 3))
    for level in ("hour", "day"):
        wanted = expected([(ts, v) for ts, v in readings if not down[0] <= ts < down[1]], level, counter=True)
        got = aggregates(db, level, yield_total)
        assert {start: row["delta"] for start, row in got.items() if row["delta"]} == {
            start: pytest.approx(row["delta"]) for start, row in wanted.items() if row["delta"]}, level


def test_today_so_far_after_hours_of_zeros_from_the_dongle(db):
    # The SDongle answered 0 from three hours ago until ten minutes ago, while the hourly job ran on time; the
    # panels made 1.2 kWh an hour all along. So far today: what the register rose after local midnight, the zeros'
    # time included, as if they were no readings.
    inverter = metric_id(db, "sun2000", "energy_yield_total")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    origin = now - timedelta(hours=6)
    readings = solar(origin, now - timedelta(minutes=1), origin)
    down = now - timedelta(hours=3), now - timedelta(minutes=10)
    sent = [(ts, 0.0 if down[0] <= ts < down[1] else v) for ts, v in readings]
    write(db, inverter, [r for r in sent if r[0] < down[1]])
    run_jobs(db, down[1], "aggregate_hours")
    write(db, inverter, [r for r in sent if r[0] >= down[1]])
    truth = after([r for r in readings if not down[0] <= r[0] < down[1]], local_period(now, "day"))
    so_far = db.execute("SELECT delta FROM energy.today WHERE source = 'sun2000' AND metric = 'energy_yield_total'")
    assert so_far.fetchone()[0] == pytest.approx(truth, abs=1e-6)
    produced = db.execute("SELECT produced_kwh FROM energy.flows WHERE level = 'today'").fetchone()[0]
    assert float(produced) == pytest.approx(truth, abs=0.001)


# --- the steps spread, bounded to the span ----------------------------------------------------------------------


def counter_series(data, start: datetime) -> list[tuple[datetime, float]]:
    """A rising counter read at random intervals (a minute to ten hours) from start."""
    steps = data.draw(st.lists(st.tuples(st.integers(1, 600), st.floats(0, 0.5)), min_size=3, max_size=40))
    readings, ts, value = [], start, 100.0
    for minutes, rise in steps:
        ts += timedelta(minutes=minutes)
        value = round(value + rise, 3)
        readings.append((ts, value))
    return readings


@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_flows_of_two_counters_far_apart_add_up_to_both_meters(pg_server, template, data):
    # The electricity meter and the gas meter (hourly capture) of one P1 port, their readings days apart (a
    # collector replaying an old spool while the other writes live), arriving in any order, repeated, with the jobs
    # run at random times: the flows derived from each add up to its meter's increase, hour and day alike.
    electricity = counter_series(data, local(2026, 3, 20))
    gas = counter_series(data, local(2026, 3, 20) + timedelta(hours=data.draw(st.integers(0, 24 * 6))))
    sent = [("energy_import_t1", r) for r in electricity] + [("gas_volume", r) for r in gas]
    sent += data.draw(st.lists(st.sampled_from(sent), max_size=6))
    firsts = [("energy_import_t1", electricity[0]), ("gas_volume", gas[0])]
    order = firsts + data.draw(st.permutations([s for s in sent if s not in firsts]))
    batches = data.draw(st.integers(1, 4))
    with fresh_database(pg_server, template) as db:
        ids = {name: metric_id(db, "dsmr", name) for name in ("energy_import_t1", "gas_volume")}
        clock = local(2026, 3, 20)
        for i in range(batches):
            write_missing_of(db, ids, order[i::batches])
            clock += timedelta(hours=data.draw(st.integers(1, 200)))
            run_jobs(db, clock)
        run_jobs(db, max(electricity[-1][0], gas[-1][0]) + timedelta(days=40))
        for flow, readings in (("imported_t1", electricity), ("gas", gas)):
            derived = metric_id(db, "flow", flow)
            for level in ("hour", "day"):
                total = sum(row["delta"] for row in aggregates(db, level, derived).values())
                assert total == pytest.approx(readings[-1][1] - readings[0][1], abs=1e-6), (flow, level)


def write_missing_of(conn, ids: dict[str, int], readings) -> None:
    """Insert (metric name, (ts, value)) readings, a repeat being absorbed as a collector's would."""
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO energy.raw_reading VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                        [(ts, ids[name], value) for name, (ts, value) in readings])


@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_runs_of_zeros_that_come_back_to_the_count_add_nothing_whatever_the_order(pg_server, template, data):
    # An inverter's dongle answers 0 for a while, any length (minutes to days), once or twice, then the register
    # reads on; the readings arrive in any order, some late after their day was cleaned, the jobs run at random
    # times. The deltas add up to what the register rose.
    readings = counter_series(data, local(2026, 3, 20))
    readings = [(local(2026, 3, 20), 100.0), *readings, (readings[-1][0] + timedelta(minutes=5), readings[-1][1])]
    sent = list(readings)
    for _ in range(data.draw(st.integers(1, 2))):
        first = data.draw(st.integers(1, len(sent) - 2))
        last = data.draw(st.integers(first, len(sent) - 2))
        sent[first:last + 1] = [(ts, 0.0) for ts, _ in sent[first:last + 1]]
    order = [sent[0], *data.draw(st.permutations(sent[1:]))]
    batches = data.draw(st.integers(1, 4))
    with fresh_database(pg_server, template) as db:
        meter = metric_id(db, "sun2000", "energy_yield_total")
        clock = local(2026, 3, 20)
        for i in range(batches):
            write(db, meter, order[i::batches])
            clock += timedelta(hours=data.draw(st.integers(1, 200)))
            run_jobs(db, clock)
        run_jobs(db, readings[-1][0] + timedelta(days=40))
        for level in ("hour", "day"):
            total = sum(row["delta"] for row in aggregates(db, level, meter).values())
            assert total == pytest.approx(readings[-1][1] - readings[0][1], abs=1e-6), level


def test_yesterday_filled_by_the_portal_is_not_counted_again_when_the_live_meter_returns(db):
    # The P1 collector loses the database yesterday at 18:00 (local) and is back a minute ago. This morning the
    # Mijn Fluvius import brought yesterday's quarter hours, and pg_cron ran every hour. The house took 0.3 kWh a
    # quarter hour all along; the meter's register and the portal agree.
    meter = metric_id(db, "dsmr", "energy_import_t1")
    portal = metric_id(db, "fluvius", "energy_import_t1")
    now = datetime.now(UTC).replace(microsecond=0)
    midnight = local_period(now, "day")
    yesterday = local_period(midnight - timedelta(hours=1), "day")
    noon = yesterday + timedelta(hours=12)  # UTC offset changes never fall between noon and 18:00

    def value(ts: datetime) -> float:
        return round(5000.0 + 1.2 * (ts - noon) / timedelta(hours=1), 4)
    write(db, meter, [(noon + timedelta(minutes=10 * i), value(noon + timedelta(minutes=10 * i))) for i in range(37)])
    quarters = int((midnight - yesterday) / timedelta(minutes=15))
    write(db, portal, [(yesterday + timedelta(minutes=15 * i), 0.3) for i in range(quarters)])
    run_jobs(db, now - timedelta(minutes=2))
    back = now - timedelta(minutes=1)
    write(db, meter, [(back, value(back))])
    days = {d: float(v) for d, v in db.execute(
        "SELECT local_start::date, imported_kwh FROM energy.history('day', %s, %s)",
        (yesterday.astimezone(BRUSSELS).date(), now.astimezone(BRUSSELS).date() + timedelta(days=1)))}
    assert days == {yesterday.astimezone(BRUSSELS).date(): pytest.approx(quarters * 0.3, abs=0.001),
                    now.astimezone(BRUSSELS).date(): pytest.approx(1.2 * (back - midnight) / timedelta(hours=1),
                                                                   abs=0.001)}


def test_the_clouds_live_counter_and_its_hourly_history_are_one_production(db):
    # The installation reads production from FusionSolar only (no Modbus link to the inverter): the cloud collector
    # stores the station's total yield every 5 minutes, and `python -m ingest.fusionsolar --history` later imports
    # the hourly production of the past days, the days of the live counter included. The panels made 3 kWh an hour
    # from 06:00 to 18:00 on July 2.
    total = metric_id(db, "fusionsolar", "energy_yield_total")
    hourly = metric_id(db, "fusionsolar", "energy_yield_hour")
    write(db, total, [(local(2026, 7, 2) + timedelta(minutes=5 * i),
                       1000.0 + 0.25 * max(0, min(i - 72, 144))) for i in range(288)])
    write(db, hourly, [(local(2026, 7, 2, h), 3.0 if 6 <= h < 18 else 0.0) for h in range(24)])
    run_jobs(db, local(2026, 7, 4, 3))
    run_jobs(db, local(2026, 7, 4, 4))
    assert flows(db, "day", "produced_kwh") == {date(2026, 7, 2): pytest.approx(36.0)}
