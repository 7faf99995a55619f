"""What real meters do to counters and gauges, each case against figures worked out by hand or by an independent
Python computation (tests/readings.py), at hour, day, week and month level."""

import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.database import aggregates, contents, metric_id, run_jobs, write
from tests.pg import fresh_database
from tests.readings import expected, local, local_period


def total(conn, level: str, metric: int) -> float:
    """The sum of a metric's deltas at one level."""
    return sum(row["delta"] or 0 for row in aggregates(conn, level, metric).values())


def every(start: datetime, count: int, minutes: float, first: float, rise: float) -> list[tuple[datetime, float]]:
    """A counter read every few minutes, rising by the same amount each time."""
    return [(start + timedelta(minutes=minutes * i), round(first + rise * i, 3)) for i in range(count)]


@pytest.fixture
def yield_total(db):
    return metric_id(db, "sun2000", "energy_yield_total")


def test_a_single_zero_from_the_inverter_is_no_energy(db, yield_total):
    readings = every(local(2026, 6, 10, 6), 864, 50 / 60, 12388.0, 0.005)  # 12 hours, every 50 s
    readings[300] = (readings[300][0], 0.0)
    write(db, yield_total, readings)
    run_jobs(db, local(2026, 6, 11, 3))
    day = aggregates(db, "day", yield_total)[local_period(readings[0][0], "day")]
    assert day["delta"] == pytest.approx(863 * 0.005)  # 4.315 kWh, not 12,392
    produced = db.execute("SELECT produced_kwh FROM energy.flows WHERE level = 'day'").fetchone()[0]
    assert float(produced) == pytest.approx(4.315, abs=0.001)


def test_a_wobble_of_one_watt_hour_down_and_back_is_no_energy(db, meter):
    values = [100.000, 100.000, 99.999, 100.000, 100.000, 100.002]
    write(db, meter, [(local(2026, 2, 3, 10, 5 * i), v) for i, v in enumerate(values)])
    run_jobs(db, local(2026, 2, 3, 12))
    assert aggregates(db, "hour", meter)[local(2026, 2, 3, 10)]["delta"] == pytest.approx(0.002)


def test_a_replaced_meter_counts_its_new_energy_from_zero(db, meter):
    old = every(local(2026, 2, 3, 8), 6, 10, 12345.178, 0.1)  # to 12345.678 at 08:50
    new = every(local(2026, 2, 3, 9, 10), 24, 10, 0.5, 0.1)  # the new meter: 0.5 at 09:10, then 0.1 per 10 min
    write(db, meter, old + new)
    run_jobs(db, local(2026, 2, 4, 3))
    # the old meter's 0.5 kWh, the new meter's whole count (2.8 kWh at 13:00), nothing for the drop
    assert total(db, "hour", meter) == pytest.approx(0.5 + new[-1][1])
    assert total(db, "day", meter) == pytest.approx(0.5 + new[-1][1])
    assert all(row["delta"] >= 0 for row in aggregates(db, "hour", meter).values())


@pytest.mark.parametrize("minute", [0, 5])
def test_gas_captured_hourly_is_split_over_the_hours_it_spans(db, minute):
    gas = metric_id(db, "dsmr", "gas_volume")
    readings = [(local(2026, 1, 20, h, minute), v) for h, v in ((6, 10.0), (7, 11.2), (8, 13.0), (9, 13.0))]
    write(db, gas, readings)
    run_jobs(db, local(2026, 1, 21, 3))
    hours = aggregates(db, "hour", gas)
    if minute == 0:  # the reading at 07:00 closes 06:00-07:00
        assert hours[local(2026, 1, 20, 6)]["delta"] == pytest.approx(1.2)
        assert hours[local(2026, 1, 20, 7)]["delta"] == pytest.approx(1.8)
        assert hours[local(2026, 1, 20, 8)]["delta"] == pytest.approx(0.0)
    else:
        assert hours[local(2026, 1, 20, 6)]["delta"] == pytest.approx(1.2 * 55 / 60)
        assert hours[local(2026, 1, 20, 7)]["delta"] == pytest.approx(1.2 * 5 / 60 + 1.8 * 55 / 60)
        assert hours[local(2026, 1, 20, 7)]["estimated"]
    assert total(db, "day", gas) == pytest.approx(3.0)


def test_a_four_and_a_half_day_outage_replayed_after_the_cleanup_loses_nothing(db, meter):
    readings = every(local(2026, 3, 1), 10 * 144, 10, 5000.0, 0.2)  # 1.2 kWh an hour for ten days
    outage = [(ts, v) for ts, v in readings if local(2026, 3, 3, 10) <= ts < local(2026, 3, 7, 22)]
    write(db, meter, [r for r in readings if r not in outage and r[0] < local(2026, 3, 3, 10)])
    clock = local(2026, 3, 1, 12)
    while clock < local(2026, 3, 8, 1):  # pg_cron keeps running while the collector spools
        run_jobs(db, clock)
        clock += timedelta(hours=6)
    write(db, meter, outage)  # the spool, replayed in order, then live data again
    write(db, meter, [r for r in readings if r[0] >= local(2026, 3, 7, 22)])
    run_jobs(db, local(2026, 3, 11, 0, 30))
    assert db.execute("SELECT min(ts) FROM energy.raw_reading").fetchone()[0] >= local(2026, 3, 9)
    for level in ("hour", "day", "week"):
        wanted = expected(readings, level, counter=True)
        actual = aggregates(db, level, meter)
        for start, row in actual.items():
            assert row["delta"] == pytest.approx(wanted[start]["delta"], abs=1e-6), (level, start)
    days = aggregates(db, "day", meter)
    assert [round(days[local(2026, 3, d)]["delta"], 3) for d in range(3, 8)] == [28.8] * 5
    assert total(db, "hour", meter) == pytest.approx(readings[-1][1] - readings[0][1])
    days = aggregates(db, "day", meter)
    # ISO weeks W09 (to Sunday March 1) and W10 are complete; the days after them are not in a week yet
    later = days[local(2026, 3, 9)]["delta"] + days[local(2026, 3, 10)]["delta"]
    assert total(db, "week", meter) + later == pytest.approx(total(db, "day", meter))


def test_a_replay_after_the_cleanup_changes_nothing(db, meter):
    power = metric_id(db, "dsmr", "power_import")
    readings = every(local(2026, 4, 6), 2 * 144, 10, 700.0, 0.15)
    write(db, meter, readings)
    write(db, power, [(ts, 1000.0 + i % 7) for i, (ts, _) in enumerate(readings)])
    run_jobs(db, local(2026, 4, 12, 3))
    before = contents(db)
    write(db, meter, readings)
    write(db, power, [(ts, 1000.0 + i % 7) for i, (ts, _) in enumerate(readings)])
    run_jobs(db, local(2026, 4, 12, 4))
    assert contents(db) == before


def test_the_month_peak_resent_with_its_old_time_never_blocks_the_cleanup(db):
    peak = metric_id(db, "dsmr", "demand_max_month")
    power = metric_id(db, "dsmr", "power_import")
    peak_at = local(2026, 5, 2, 18, 15)
    clock = local(2026, 5, 2, 0)
    before = None
    while clock < local(2026, 6, 1):
        write(db, power, [(clock + timedelta(minutes=m), 500.0) for m in range(0, 360, 30)])
        with db.cursor() as cur:  # the meter repeats the peak with its old time in every telegram
            cur.execute("INSERT INTO energy.raw_reading VALUES (%s, %s, 4321.0) ON CONFLICT DO NOTHING",
                        (peak_at, peak))
        clock += timedelta(hours=6)
        run_jobs(db, clock)
        oldest = db.execute("SELECT min(ts) FROM energy.raw_reading WHERE metric_id = %s", (power,)).fetchone()[0]
        day_before_yesterday = local_period(clock, "day") - timedelta(days=1, hours=1)
        assert oldest is None or oldest >= day_before_yesterday, clock
        hour = aggregates(db, "hour", peak).get(local(2026, 5, 2, 18))
        if clock > local(2026, 5, 6):
            assert hour == before  # stored once, never merged again
        before = hour
    assert before["n"] == 1 and before["sum"] == 4321.0


def test_production_comes_from_the_inverter_and_the_cloud_fills_its_gap(db):
    inverter = metric_id(db, "sun2000", "energy_yield_total")
    cloud = metric_id(db, "fusionsolar", "energy_yield_total")
    day1 = every(local(2026, 7, 1, 6), 12 * 12, 5, 1000.0, 0.3)  # 43.2 kWh... read every 5 minutes
    write(db, inverter, day1[:-1])
    write(db, cloud, every(local(2026, 7, 1, 6), 12 * 12, 5, 1000.0, 0.3)[:-1])  # the cloud saw the same
    write(db, cloud, every(local(2026, 7, 2, 6), 12 * 12, 5, 1042.6, 0.25))  # the inverter was off the network
    run_jobs(db, local(2026, 8, 2, 3))
    days = dict(db.execute("SELECT local_start::date::text, produced_kwh FROM energy.flows WHERE level = 'day'"))
    assert float(days["2026-07-01"]) == pytest.approx(0.3 * 142, abs=0.001)  # once, not twice
    assert float(days["2026-07-02"]) == pytest.approx(0.25 * 143, abs=0.001)  # from the cloud
    month = db.execute("SELECT produced_kwh FROM energy.flows WHERE level = 'month'").fetchone()[0]
    assert month == sum(v for v in days.values())


def test_a_gauge_average_is_weighted_by_time(db):
    power = metric_id(db, "dsmr", "power_import")
    start = local(2026, 1, 5, 10)
    write(db, power, [(start, 3000.0)] + [(start + timedelta(minutes=59, seconds=s), 0.0) for s in range(60)])
    run_jobs(db, local(2026, 1, 6, 3))
    assert aggregates(db, "hour", power)[start]["avg"] == pytest.approx(2950.0)
    assert aggregates(db, "hour", power)[start]["n"] == 61
    # the day: 3000 W for 59 minutes from 10:00, then 0 W until midnight
    assert aggregates(db, "day", power)[local(2026, 1, 5)]["avg"] == pytest.approx(3000 * 59 / (14 * 60))


def test_the_capacity_tariff_averages_twelve_calendar_months(db):
    peak = metric_id(db, "dsmr", "demand_max_month")
    months = [(2025, m) for m in range(1, 13)] + [(2026, 1), (2026, 2)]
    missing = (2025, 6)  # the collector was down all month
    values = {ym: 3000.0 + 100 * i for i, ym in enumerate(months)}
    write(db, peak, [(local(y, m, 3, 18), v) for (y, m), v in values.items() if (y, m) != missing])
    run_jobs(db, local(2026, 3, 2, 3))
    rows = dict(db.execute("SELECT month, average_12_months_w FROM energy.capacity_tariff"))
    present = [v for ym, v in values.items() if ym != missing and (2025, 3) <= ym <= (2026, 2)]
    assert float(rows["2026-02"]) == pytest.approx(sum(present) / len(present))


def test_two_02_00_hours_of_the_autumn_day_have_their_own_labels(db):
    power = metric_id(db, "dsmr", "power_import")
    write(db, power, [(local(2025, 10, 26, 0) + timedelta(minutes=30 * i), 100.0) for i in range(10)])
    run_jobs(db, local(2025, 10, 27, 3))
    rows = db.execute("SELECT hour FROM energy.hourly WHERE day = '2025-10-26' ORDER BY period_start")
    labels = [row[0] for row in rows]
    assert labels[:4] == ["2025-10-26 00:00+02", "2025-10-26 01:00+02", "2025-10-26 02:00+02", "2025-10-26 02:00+01"]


def test_writers_never_see_an_error_while_jobs_run(db_url, db):
    power = metric_id(db, "dsmr", "power_import")
    ingest = db_url.replace("postgres@", "energy_ingest@", 1)
    errors, stop = [], threading.Event()

    def writer():
        with psycopg.connect(ingest, autocommit=True) as conn:
            ts = datetime.now(UTC) - timedelta(days=4)
            while not stop.is_set():
                try:
                    conn.execute("INSERT INTO energy.raw_reading VALUES (%s, %s, 1.0), (%s, %s, 2.0)",
                                 (ts, power, ts - timedelta(days=3), power))
                except psycopg.Error as error:
                    errors.append(str(error))
                ts += timedelta(seconds=1)
    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        clock = datetime.now(UTC) - timedelta(days=4)
        for _ in range(500):
            run_jobs(db, clock)
            clock += timedelta(minutes=20)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_counter_deltas_always_add_up_to_the_meter_increase(pg_server, template, data):
    start = local(2026, 3, 20)
    steps = data.draw(st.lists(st.tuples(st.integers(1, 600), st.floats(0, 0.5)), min_size=5, max_size=80))
    readings, ts, value = [], start, 100.0
    for minutes, rise in steps:
        ts += timedelta(minutes=minutes)
        value = round(value + rise, 3)
        readings.append((ts, value))
    # a glitch is a single wrong reading the counter comes back from within the hour (longer is a reset)
    short = [i for i in range(1, len(readings) - 1) if readings[i + 1][0] - readings[i][0] < timedelta(hours=1)]
    glitches = data.draw(st.sets(st.sampled_from(short), max_size=3)) if short else set()
    glitches = {i for i in glitches if i - 1 not in glitches}
    sent = [(t, 0.0 if i in glitches else v) for i, (t, v) in enumerate(readings)]
    sent += data.draw(st.lists(st.sampled_from(sent), max_size=10))  # duplicates
    # any order, except that the meter's first reading is stored first: a counter's history starts with it (a
    # glitch that arrives before every real reading, days before them, would be taken as the start; see README)
    order = [sent[0], *data.draw(st.permutations(sent[1:]))]
    batches = data.draw(st.integers(1, 4))
    with fresh_database(pg_server, template) as db:
        meter = metric_id(db, "dsmr", "energy_export_t2")
        clock = start
        for i in range(batches):
            write_missing(db, meter, order[i::batches])
            clock += timedelta(hours=data.draw(st.integers(1, 200)))
            run_jobs(db, clock)
        run_jobs(db, ts + timedelta(days=40))
        assert total(db, "hour", meter) == pytest.approx(readings[-1][1] - readings[0][1], abs=1e-6)
        assert total(db, "day", meter) == pytest.approx(readings[-1][1] - readings[0][1], abs=1e-6)


def write_missing(conn, metric: int, readings) -> None:
    """Insert readings, a repeat of one already stored being absorbed as a collector's would."""
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO energy.raw_reading VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                        [(ts, metric, value) for ts, value in readings])


def test_a_late_reading_before_a_glitch_moves_the_rise_without_counting_it_twice(db):
    # found by the property test: the rise first counted at 01:53 (after a 0.0 glitch) belongs to 00:02 once the
    # reading of 00:02 arrives; the meter rose 0.5 kWh in all
    meter = metric_id(db, "dsmr", "energy_export_t2")
    at = lambda hour, minute: datetime(2026, 3, 19, 23, 0, tzinfo=UTC) + timedelta(hours=hour, minutes=minute)  # noqa: E731
    write(db, meter, [(at(0, 1), 100.0), (at(0, 2), 100.0), (at(2, 12), 0.0), (at(2, 53), 100.5)])
    run_jobs(db, at(3, 0))
    write(db, meter, [(at(1, 2), 100.5), (at(6, 0), 100.5)])
    run_jobs(db, at(7, 0))
    run_jobs(db, at(24 * 40, 0))
    assert total(db, "hour", meter) == pytest.approx(0.5, abs=1e-9)
    assert total(db, "day", meter) == pytest.approx(0.5, abs=1e-9)
