"""A hostile review of the flows' residual pass (derive_flows) and of counter steps that start at the last good
reading: a live meter's outage that the Fluvius portal fills in part, imported before or after the outage was
stored and cleaned; sources that disagree; DST nights; gas; three solar sources with gaps; repeated job runs.
Every figure wanted is worked out here from the house's own consumption, minute by minute, never by the engine's
rules."""

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from psycopg import sql

from tests.database import aggregates, contents, metric_id, run_jobs, write
from tests.pg import fresh_database
from tests.readings import BRUSSELS, expected, local

MINUTE = timedelta(minutes=1)


class House:
    """A register rising minute by minute at rate(ts) (units an hour), from base at origin: what the meter reads at
    any whole minute, and what the portal says of any interval."""

    def __init__(self, origin: datetime, rate, base: float = 5000.0):
        self.origin, self.rate, self.base = origin, rate, base
        self._cumulative = {origin: 0.0}
        self._last = origin

    def _rise_to(self, ts: datetime) -> float:
        """The register's rise from origin to ts (a whole minute)."""
        while self._last < ts:
            self._cumulative[self._last + MINUTE] = self._cumulative[self._last] + self.rate(self._last) / 60
            self._last += MINUTE
        return self._cumulative[ts]

    def reading(self, ts: datetime, digits: int = 3) -> float:
        """What the register shows at ts, to the meter's resolution."""
        return round(self.base + self._rise_to(ts), digits)

    def between(self, start: datetime, end: datetime) -> float:
        """What the house took from start to end, exactly."""
        return self._rise_to(end) - self._rise_to(start)

    def readings(self, first: datetime, last: datetime, every: timedelta) -> list[tuple[datetime, float]]:
        """The register read every every from first to last (included)."""
        count = int((last - first) / every) + 1
        return [(first + i * every, self.reading(first + i * every)) for i in range(count)]

    def quarters(self, first: datetime, last: datetime, every: timedelta = timedelta(minutes=15)) -> list:
        """The portal's amounts of the intervals starting from first up to last (excluded)."""
        count = int((last - first) / every)
        return [(first + i * every, round(self.between(first + i * every, first + (i + 1) * every), 3))
                for i in range(count)]


def hour_of(ts: datetime) -> int:
    """The Brussels wall-clock hour of ts."""
    return ts.astimezone(BRUSSELS).hour


def flow_days(conn, column: str, level: str = "day") -> dict[date, float]:
    """One column of energy.flows at one level, by local date of the period's start."""
    query = sql.SQL("SELECT local_start::date, {} FROM energy.flows WHERE level = %s").format(sql.Identifier(column))
    return {d: float(v) for d, v in conn.execute(query, (level,)) if v is not None}


def flow_hours(conn, column: str) -> dict[datetime, float]:
    """One column of energy.flows per hour, keyed by the hour's UTC start."""
    query = sql.SQL("SELECT period_start, {} FROM energy.flows WHERE level = 'hour'").format(sql.Identifier(column))
    return {start: float(v) for start, v in conn.execute(query) if v is not None}


def all_flows(conn) -> list[tuple]:
    """Every row of energy.flows but the running ones, in a fixed order."""
    return conn.execute("SELECT * FROM energy.flows WHERE level <> 'today' "
                        "ORDER BY level, period_start").fetchall()


COLUMN_FLOWS = {"imported_kwh": ("imported_t1", "imported_t2"), "imported_day_kwh": ("imported_t1",),
                "imported_night_kwh": ("imported_t2",), "produced_kwh": ("produced",), "gas_m3": ("gas",)}


def assert_consistent(conn, column: str) -> None:
    """No hour of the column's flows below zero; the stored days are the sums of their hours, the stored months the
    sums of their days (unrounded)."""
    for flow in COLUMN_FLOWS[column]:
        derived = metric_id(conn, "flow", flow)
        hours = {s: r["delta"] for s, r in aggregates(conn, "hour", derived).items()}
        assert [s for s, v in hours.items() if v < -1e-9] == [], flow
        by_day: dict[date, float] = {}
        for s, v in hours.items():
            by_day[s.astimezone(BRUSSELS).date()] = by_day.get(s.astimezone(BRUSSELS).date(), 0.0) + v
        days = {s.astimezone(BRUSSELS).date(): r["delta"] for s, r in aggregates(conn, "day", derived).items()}
        assert days == {d: pytest.approx(by_day.get(d, 0.0), abs=1e-6) for d in days}, flow
        by_month: dict[date, float] = {}
        for d, v in days.items():
            by_month[d.replace(day=1)] = by_month.get(d.replace(day=1), 0.0) + v
        months = {s.astimezone(BRUSSELS).date(): r["delta"] for s, r in aggregates(conn, "month", derived).items()}
        assert months == {d: pytest.approx(by_month.get(d, 0.0), abs=1e-6) for d in months}, flow


# --- a live-meter outage that the portal fills in part ------------------------------------------------------------
# The P1 collector is down from July 1 17:58 to July 3 12:03 (local); the register is read every 10 minutes
# otherwise. The house takes 0.6 kWh an hour while nobody is looking but the portal, on July 2 it takes 0.3 at
# night and 1.8 in the evening, and 1.2 otherwise. The Mijn Fluvius export of July 2 (quarter hours) is imported.

DOWN, BACK = local(2026, 7, 1, 17, 58), local(2026, 7, 3, 12, 3)
PORTAL_DAY = (local(2026, 7, 2), local(2026, 7, 3))


def outage_rate(ts: datetime) -> float:
    """kWh an hour: 0.6 where only the meter's step knows it, the portal day's own profile, 1.2 elsewhere."""
    if PORTAL_DAY[0] <= ts < PORTAL_DAY[1]:
        return 0.3 if hour_of(ts) < 7 else 1.8 if hour_of(ts) >= 18 else 1.2
    return 0.6 if DOWN <= ts < BACK else 1.2


def outage_house() -> tuple[House, list, list]:
    """The house, the meter's readings around the outage (July 1 00:00 to July 4 02:00), the portal's July 2."""
    house = House(local(2026, 7, 1), outage_rate)
    meter = house.readings(local(2026, 7, 1), DOWN, timedelta(minutes=2))
    meter = [r for r in meter if r[0].minute % 10 == 0 or r[0] == DOWN]
    meter += house.readings(BACK, local(2026, 7, 4, 2, 3), timedelta(minutes=10))
    return house, meter, house.quarters(*PORTAL_DAY)


def outage_truth(house: House) -> dict[date, float]:
    """What the house took each day, July 1 to 3."""
    return {date(2026, 7, d): house.between(local(2026, 7, d), local(2026, 7, d + 1)) for d in (1, 2, 3)}


def assert_outage_days(db, house: House) -> None:
    """July 1-3 imported what the house took, July 3's morning its 0.6 kWh an hour, and the flows add up."""
    truth = outage_truth(house)
    imported = flow_days(db, "imported_kwh")
    assert {d: imported[d] for d in truth} == {d: pytest.approx(v, abs=0.005) for d, v in truth.items()}
    hours = flow_hours(db, "imported_kwh")
    assert [hours[local(2026, 7, 3, h)] for h in range(12)] == [pytest.approx(0.6, abs=0.002)] * 12
    assert_consistent(db, "imported_kwh")


def test_the_portal_imported_days_after_the_outage_was_stored_and_cleaned(db):
    # pg_cron runs through the outage; the meter comes back; on July 6 (raw of July 1-4 gone) the user imports the
    # export of July 2. The days must then be what the house took, and the meter's increase must be all there.
    house, meter, portal = outage_house()
    dsmr, fluvius = metric_id(db, "dsmr", "energy_import_t1"), metric_id(db, "fluvius", "energy_import_t1")
    write(db, dsmr, [r for r in meter if r[0] < DOWN + MINUTE])
    run_jobs(db, local(2026, 7, 1, 20, 5))
    run_jobs(db, local(2026, 7, 2, 12, 5))
    write(db, dsmr, [r for r in meter if r[0] > DOWN])
    run_jobs(db, local(2026, 7, 3, 13, 5))
    run_jobs(db, local(2026, 7, 6, 3, 5))
    assert db.execute("SELECT count(*) FROM energy.raw_reading WHERE ts < %s", (local(2026, 7, 5),)).fetchone()[0] == 0
    meter_days = {s: r["delta"] for s, r in aggregates(db, "day", dsmr).items()}
    write(db, fluvius, portal)
    run_jobs(db, local(2026, 7, 6, 4, 5))
    truth = outage_truth(house)
    imported = flow_days(db, "imported_kwh")
    assert {d: imported[d] for d in truth} == {d: pytest.approx(v, abs=0.005) for d, v in truth.items()}
    assert sum(imported.values()) == pytest.approx(meter[-1][1] - meter[0][1], abs=0.005)
    evening = {h: v for h, v in flow_hours(db, "imported_kwh").items() if DOWN < h < PORTAL_DAY[0]}
    assert evening == {h: pytest.approx(0.6, abs=0.002) for h in evening} and len(evening) == 6
    # the meter's own figures are its even spread, untouched by the portal
    assert {s: r["delta"] for s, r in aggregates(db, "day", dsmr).items()} == {
        s: pytest.approx(v, abs=1e-9) for s, v in meter_days.items()}
    assert_consistent(db, "imported_kwh")


def test_the_portal_imported_during_the_outage_before_the_meter_comes_back(db):
    # The reverse order: the export of July 2 is imported on July 3 at 08:00, while the collector is still down;
    # the meter comes back at 12:03 and the jobs run on.
    house, meter, portal = outage_house()
    dsmr, fluvius = metric_id(db, "dsmr", "energy_import_t1"), metric_id(db, "fluvius", "energy_import_t1")
    write(db, dsmr, [r for r in meter if r[0] < DOWN + MINUTE])
    run_jobs(db, local(2026, 7, 2, 12, 5))
    write(db, fluvius, portal)
    run_jobs(db, local(2026, 7, 3, 8, 5))
    write(db, dsmr, [r for r in meter if DOWN < r[0] < local(2026, 7, 3, 12, 30)])
    run_jobs(db, local(2026, 7, 3, 12, 35))
    write(db, dsmr, [r for r in meter if r[0] >= local(2026, 7, 3, 12, 30)])
    for hour in range(13, 24):
        run_jobs(db, local(2026, 7, 3, hour, 5))
    run_jobs(db, local(2026, 7, 5, 3, 5))
    truth = outage_truth(house)
    imported = flow_days(db, "imported_kwh")
    assert {d: imported[d] for d in truth} == {d: pytest.approx(v, abs=0.005) for d, v in truth.items()}
    assert sum(imported.values()) == pytest.approx(meter[-1][1] - meter[0][1], abs=0.005)
    assert_consistent(db, "imported_kwh")


def test_running_the_jobs_again_changes_no_flow(db):
    # After the outage and the import, pg_cron runs on: at the same minute again, the next hours, after the
    # cleanup, days later. No flow, and no aggregate, may move.
    house, meter, portal = outage_house()
    dsmr, fluvius = metric_id(db, "dsmr", "energy_import_t1"), metric_id(db, "fluvius", "energy_import_t1")
    write(db, dsmr, meter)
    write(db, fluvius, portal)
    run_jobs(db, local(2026, 7, 4, 3, 5))
    before, tables = all_flows(db), contents(db, ("agg_hour", "counter_hour"))
    for at in (local(2026, 7, 4, 3, 5), local(2026, 7, 4, 3, 5), local(2026, 7, 4, 4, 5), local(2026, 7, 6, 3, 5),
               local(2026, 7, 9, 3, 5), local(2026, 8, 2, 3, 5)):
        run_jobs(db, at)
        now = all_flows(db)
        assert [row for row in before if row not in now] == [], at  # periods completed since are new rows
        assert contents(db, ("agg_hour", "counter_hour")) == tables, at
    truth = outage_truth(house)
    imported = flow_days(db, "imported_kwh")
    assert {d: imported[d] for d in truth} == {d: pytest.approx(v, abs=0.005) for d, v in truth.items()}


def test_the_portal_covering_the_middle_of_a_three_day_outage(db):
    # The collector is down from July 1 17:58 to July 4 12:03; the portal export covers July 2 only (the user
    # downloaded one day). July 1's evening and July 3 all day and July 4's morning are known only from the
    # meter's step: the house took 0.6 kWh an hour then (so an even spread of what is left is the truth).
    down, back = local(2026, 7, 1, 17, 58), local(2026, 7, 4, 12, 3)

    def rate(ts: datetime) -> float:
        if PORTAL_DAY[0] <= ts < PORTAL_DAY[1]:
            return 0.3 if hour_of(ts) < 7 else 1.8 if hour_of(ts) >= 18 else 1.2
        return 0.6 if down <= ts < back else 1.2
    house = House(local(2026, 7, 1), rate)
    meter = house.readings(local(2026, 7, 1), down, timedelta(minutes=2))
    meter = [r for r in meter if r[0].minute % 10 == 0 or r[0] == down]
    meter += house.readings(back, local(2026, 7, 5, 2, 3), timedelta(minutes=10))
    dsmr, fluvius = metric_id(db, "dsmr", "energy_import_t1"), metric_id(db, "fluvius", "energy_import_t1")
    write(db, dsmr, meter)
    write(db, fluvius, house.quarters(*PORTAL_DAY))
    run_jobs(db, local(2026, 7, 5, 3, 5))
    truth = {date(2026, 7, d): house.between(local(2026, 7, d), local(2026, 7, d + 1)) for d in (1, 2, 3, 4)}
    imported = flow_days(db, "imported_kwh")
    assert {d: imported[d] for d in truth} == {d: pytest.approx(v, abs=0.005) for d, v in truth.items()}
    assert_consistent(db, "imported_kwh")


def test_a_portal_that_says_more_than_the_meter_leaves_no_hour_below_zero(db):
    # The meter's step over the outage says 10 kWh; the portal's July 2 (a wrong EAN's export, or a meter that
    # the portal reads differently) says 30 kWh. The hours the meter keeps cannot go below 0; the days still add
    # up to the month; the meter's own aggregates are untouched.
    dsmr, fluvius = metric_id(db, "dsmr", "energy_import_t1"), metric_id(db, "fluvius", "energy_import_t1")
    meter = [(local(2026, 7, 1, 17, 50) + timedelta(minutes=10 * i), 5000.0 + 0.1 * i) for i in range(2)]
    back = local(2026, 7, 3, 12)
    meter += [(back + timedelta(minutes=10 * i), round(5010.1 + 0.1 * i, 3)) for i in range(6 * 14)]
    write(db, dsmr, meter)
    write(db, fluvius, [(PORTAL_DAY[0] + timedelta(minutes=15 * i), 0.3125) for i in range(96)])
    run_jobs(db, local(2026, 7, 5, 3, 5))
    assert_consistent(db, "imported_kwh")
    hours = flow_hours(db, "imported_kwh")
    assert min(hours.values()) >= 0
    imported = flow_days(db, "imported_kwh")
    assert imported[date(2026, 7, 2)] == pytest.approx(30.0)
    # what the meter counted outside the portal's day: its readings on July 1 and July 3, nothing of the step
    assert imported[date(2026, 7, 1)] == pytest.approx(0.1, abs=0.001)
    assert imported[date(2026, 7, 3)] == pytest.approx(0.1 * 6 * 12, abs=0.001)
    wanted = expected(meter, "day", counter=True)
    assert {s: r["delta"] for s, r in aggregates(db, "day", dsmr).items()} == {
        s: pytest.approx(r["delta"]) for s, r in wanted.items()}


# --- three solar sources with gaps --------------------------------------------------------------------------------
# A June day: the panels make a bell of production from 05:00 to 21:00. The SUN2000 register is read every 5 minutes
# over Modbus, FusionSolar's copy of the same register every 5 minutes, and FusionSolar's hourly history (imported
# later) gives each hour's production. Each has its own gaps; wherever the three are silent together, only the
# counters' steps know. The day's production is what the register rose, whatever the gaps.


def sun(ts: datetime) -> float:
    """kWh an hour: a bell from 05:00 to 21:00 peaking at 6 kWh at 13:00."""
    wall = ts.astimezone(BRUSSELS)
    hours = wall.hour + wall.minute / 60
    return max(0.0, 6.0 * (1 - ((hours - 13) / 8) ** 2))


def solar_day(db, day: date, inverter_gaps, cloud_gaps, history_hours) -> float:
    """Write the three sources of one day (gaps as (from, to) local hours, history as the local hours it holds),
    run the jobs the next night, and give what the register rose that day."""
    start = local(day.year, day.month, day.day)
    end = local(*(day + timedelta(days=1)).timetuple()[:3])
    house = House(start - timedelta(hours=1), sun, base=12000.0)
    readings = house.readings(start - timedelta(hours=1), end + timedelta(hours=1), timedelta(minutes=5))

    def outside(gaps):
        return [(ts, v) for ts, v in readings
                if not any(local(day.year, day.month, day.day, a) <= ts < local(day.year, day.month, day.day, b)
                           for a, b in gaps)]
    write(db, metric_id(db, "sun2000", "energy_yield_total"), outside(inverter_gaps))
    write(db, metric_id(db, "fusionsolar", "energy_yield_total"), outside(cloud_gaps))
    hours = [local(day.year, day.month, day.day, h) for h in history_hours]
    write(db, metric_id(db, "fusionsolar", "energy_yield_hour"),
          [(h, round(house.between(h, h + timedelta(hours=1)), 3)) for h in hours])
    run_jobs(db, end + timedelta(hours=3))
    return house.between(start, end)


SOLAR_CASES = [
    pytest.param([(9, 15)], [(11, 17)], [12, 13], id="inverter 9-15, cloud 11-17, history 12-14"),
    pytest.param([(8, 18)], [(10, 12)], [], id="inverter 8-18, cloud 10-12"),
    pytest.param([(10, 16)], [(8, 12)], [h for h in range(24) if not 9 <= h < 13],
                 id="inverter 10-16, cloud 8-12, history all but 9-13", marks=pytest.mark.xfail(strict=True, reason=(
                     "as in the test below: the inverter's 07:00 hour (3.148 kWh, rising) is taken as even, so "
                     "07:55-08:00 counts 0.262 instead of 0.297: the day says 64.039, the register rose 64.000"))),
    pytest.param([(6, 20)], [(7, 9), (12, 14), (17, 19)], [15],
                 id="inverter 6-20, cloud 7-9 and 12-14 and 17-19, history 15"),
    pytest.param([(7, 9), (12, 14), (17, 19)], [(6, 20)], [8, 18],
                 id="inverter 7-9 and 12-14 and 17-19, cloud 6-20, history 8 and 18"),
    pytest.param([(5, 13)], [(9, 20)], [], id="inverter 5-13, cloud 9-20, no history"),
    pytest.param([(12, 13)], [(11, 14)], list(range(10, 16)), id="inverter 12-13, cloud 11-14, history 10-16"),
]


@pytest.mark.parametrize("inverter_gaps, cloud_gaps, history", SOLAR_CASES)
def test_three_solar_sources_with_gaps_make_one_days_production(db, inverter_gaps, cloud_gaps, history):
    truth = solar_day(db, date(2026, 6, 17), inverter_gaps, cloud_gaps, history)
    produced = flow_days(db, "produced_kwh")
    assert produced[date(2026, 6, 17)] == pytest.approx(truth, abs=0.01)
    assert_consistent(db, "produced_kwh")


@pytest.mark.xfail(strict=True, reason=(
    "derive_flows takes the other source's share of a partly covered hour in proportion to time: the inverter's "
    "07:00 hour (1.25 kWh) gives 1.25 x 5/60 = 0.104 for 07:55-08:00 where its readings say 0.5, so the cloud's "
    "hours 09-11 get 0.396 kWh too much: the day says 58.246 kWh, the panels made 57.85"))
def test_a_step_starting_just_before_the_hour_ends_takes_that_part_of_the_hour_from_the_other_source_exactly(db):
    # FusionSolar's upload stops at 07:55 (its last reading) and resumes at 12:00; the Modbus collector loses the
    # inverter from 10:00 to 16:00. The clouds clear at 07:50: 0.3 kWh an hour before, 6 kWh an hour from 07:50 to
    # 16:00, 2 after, until 20:00. The inverter's readings say what the register rose from 07:55 to 08:00 (0.5
    # kWh); the day's production is what the register rose, 57.85 kWh.
    def rate(ts: datetime) -> float:
        wall = ts.astimezone(BRUSSELS)
        minutes = wall.hour * 60 + wall.minute
        return 0.0 if minutes < 5 * 60 or minutes >= 20 * 60 else 0.3 if minutes < 7 * 60 + 50 else (
            6.0 if minutes < 16 * 60 else 2.0)
    house = House(local(2026, 6, 17), rate, base=12000.0)
    readings = house.readings(local(2026, 6, 17), local(2026, 6, 18, 1), timedelta(minutes=5))
    inverter = [r for r in readings if not local(2026, 6, 17, 10) <= r[0] < local(2026, 6, 17, 16)]
    cloud = [r for r in readings if not local(2026, 6, 17, 8) <= r[0] < local(2026, 6, 17, 12)]
    write(db, metric_id(db, "sun2000", "energy_yield_total"), inverter)
    write(db, metric_id(db, "fusionsolar", "energy_yield_total"), cloud)
    run_jobs(db, local(2026, 6, 18, 3))
    truth = house.between(local(2026, 6, 17), local(2026, 6, 18))
    assert truth == pytest.approx(2 * 0.3 + 50 / 60 * 0.3 + (8 * 60 + 10) / 60 * 6 + 4 * 2)
    assert flow_days(db, "produced_kwh")[date(2026, 6, 17)] == pytest.approx(truth, abs=0.01)


# --- outages around DST nights, month ends, late spools ------------------------------------------------------------


def outage_case(down: datetime, back: datetime, covered: list[tuple[datetime, datetime]], start: datetime,
                end: datetime, every: timedelta = timedelta(minutes=10)):
    """A house read every every from start to end but for [down, back), taking 0.6 kWh an hour in the outage's
    uncovered time, a profile of its own in the covered spans (0.3 at night, 1.8 in the evening, 1.2 by day), 1.2
    elsewhere: the house, the meter's readings and the portal's quarter hours of the covered spans."""
    def rate(ts: datetime) -> float:
        if any(a <= ts < b for a, b in covered):
            return 0.3 if hour_of(ts) < 7 else 1.8 if hour_of(ts) >= 18 else 1.2
        return 0.6 if down <= ts < back else 1.2
    house = House(start, rate)
    meter = [r for r in house.readings(start, end, MINUTE) if ((r[0] - start) % every == timedelta(0)
             and not down < r[0] < back) or r[0] in (down, back)]
    portal = [q for a, b in covered for q in house.quarters(a, b)]
    return house, meter, portal


def days_of(house: House, first: date, last: date) -> dict[date, float]:
    """What the house took each local day from first to last."""
    result, day = {}, first
    while day <= last:
        result[day] = house.between(local(*day.timetuple()[:3]), local(*(day + timedelta(days=1)).timetuple()[:3]))
        day += timedelta(days=1)
    return result


def test_an_outage_over_the_autumn_night_that_the_portal_fills_for_the_25_hour_day(db):
    # The collector is down from October 24 17:58 to October 26 12:03; the portal's October 25 has 100 quarter
    # hours (02:00-03:00 twice). Imported after the cleanup.
    covered = [(local(2026, 10, 25), local(2026, 10, 26))]
    assert (covered[0][1] - covered[0][0]) == timedelta(hours=25)
    house, meter, portal = outage_case(local(2026, 10, 24, 17, 58), local(2026, 10, 26, 12, 3), covered,
                                       local(2026, 10, 24), local(2026, 10, 27, 1, 3))
    assert len(portal) == 100
    dsmr, fluvius = metric_id(db, "dsmr", "energy_import_t1"), metric_id(db, "fluvius", "energy_import_t1")
    write(db, dsmr, meter)
    run_jobs(db, local(2026, 10, 29, 3))
    write(db, fluvius, portal)
    run_jobs(db, local(2026, 10, 29, 4))
    truth = days_of(house, date(2026, 10, 24), date(2026, 10, 26))
    imported = flow_days(db, "imported_kwh")
    assert {d: imported[d] for d in truth} == {d: pytest.approx(v, abs=0.005) for d, v in truth.items()}
    hours = flow_hours(db, "imported_kwh")
    night = [hours[local(2026, 10, 25) + timedelta(hours=i)] for i in range(25)]
    assert night[2] == night[3] == pytest.approx(0.3, abs=0.002)  # the two 02:00 hours, each its own
    assert_consistent(db, "imported_kwh")


def test_an_outage_over_the_spring_night_with_the_portal_on_both_sides(db):
    # The collector is down from March 27 20:58 to March 30 09:03; the portal export covers March 27 and March 30
    # (the user exported a week in which two days were still missing). The 23-hour March 29 and March 28 are known
    # only from the meter's step.
    covered = [(local(2026, 3, 27), local(2026, 3, 28)), (local(2026, 3, 30), local(2026, 3, 31))]
    house, meter, portal = outage_case(local(2026, 3, 27, 20, 58), local(2026, 3, 30, 9, 3), covered,
                                       local(2026, 3, 27), local(2026, 3, 31, 1, 3))
    dsmr, fluvius = metric_id(db, "dsmr", "energy_import_t1"), metric_id(db, "fluvius", "energy_import_t1")
    write(db, dsmr, meter)
    write(db, fluvius, portal)
    run_jobs(db, local(2026, 3, 31, 3))
    truth = days_of(house, date(2026, 3, 27), date(2026, 3, 30))
    assert truth[date(2026, 3, 29)] == pytest.approx(23 * 0.6)
    imported = flow_days(db, "imported_kwh")
    assert {d: imported[d] for d in truth} == {d: pytest.approx(v, abs=0.005) for d, v in truth.items()}
    assert_consistent(db, "imported_kwh")


def test_an_outage_over_a_month_end_with_the_portal_imported_after_the_month_was_stored(db):
    # The collector is down from June 29 17:58 to July 2 12:03; the jobs run through it; on July 3 the month of
    # June is stored. On August 3 the user imports the export of June 30 and July 1.
    covered = [(local(2026, 6, 30), local(2026, 7, 2))]
    house, meter, portal = outage_case(local(2026, 6, 29, 17, 58), local(2026, 7, 2, 12, 3), covered,
                                       local(2026, 6, 1), local(2026, 7, 5, 0, 3), every=timedelta(minutes=30))
    dsmr, fluvius = metric_id(db, "dsmr", "energy_import_t1"), metric_id(db, "fluvius", "energy_import_t1")
    write(db, dsmr, [r for r in meter if r[0] <= local(2026, 6, 29, 17, 58)])
    run_jobs(db, local(2026, 7, 1, 3))
    write(db, dsmr, [r for r in meter if r[0] > local(2026, 6, 29, 17, 58)])
    run_jobs(db, local(2026, 7, 3, 3))
    run_jobs(db, local(2026, 8, 3, 3))
    down, back = local(2026, 6, 29, 17, 58), local(2026, 7, 2, 12, 3)
    spread = house.between(down, back) * ((local(2026, 7, 1) - down) / (back - down))  # the even spread, for now
    june = flow_days(db, "imported_kwh", "month")[date(2026, 6, 1)]
    assert june == pytest.approx(house.between(local(2026, 6, 1), down) + spread, abs=0.005)
    write(db, fluvius, portal)
    run_jobs(db, local(2026, 8, 3, 4))
    truth = days_of(house, date(2026, 6, 28), date(2026, 7, 3))
    imported = flow_days(db, "imported_kwh")
    assert {d: imported[d] for d in truth} == {d: pytest.approx(v, abs=0.005) for d, v in truth.items()}
    months = flow_days(db, "imported_kwh", "month")
    assert months[date(2026, 6, 1)] == pytest.approx(house.between(local(2026, 6, 1), local(2026, 7, 1)), abs=0.01)
    assert_consistent(db, "imported_kwh")


def test_the_spool_replayed_after_the_portal_import_and_the_cleanup(db):
    # The collector's spool held July 1 17:58 to 22:00 (then the disk filled up); it is replayed on July 6, after
    # the portal's July 2 was imported and the raw data of the outage cleaned. The evening is then known from the
    # meter's own readings, and what is left of the step goes to July 3's morning.
    house, meter, portal = outage_house()
    spool = house.readings(DOWN + timedelta(minutes=2), local(2026, 7, 1, 22), timedelta(minutes=10))
    dsmr, fluvius = metric_id(db, "dsmr", "energy_import_t1"), metric_id(db, "fluvius", "energy_import_t1")
    write(db, dsmr, meter)
    write(db, fluvius, portal)
    run_jobs(db, local(2026, 7, 6, 3))
    write(db, dsmr, spool)
    run_jobs(db, local(2026, 7, 6, 4))
    assert_outage_days(db, house)


@pytest.mark.parametrize("imported", [
    pytest.param(local(2026, 7, 4, 3, 5), id="before the cleanup"),
    pytest.param(local(2026, 7, 6, 4, 5), id="after the cleanup"),
])
def test_zeros_from_the_lost_link_with_the_portal_imported_late(db, imported):
    # The P1 port keeps answering through the outage, but the collector parses an empty telegram as 0 kWh every 10
    # minutes; the portal's July 2 is imported after the outage was stored.
    house, meter, portal = outage_house()
    zeros = [(ts, 0.0) for ts in (DOWN + timedelta(minutes=10 * i + 2) for i in range(300)) if ts < BACK]
    dsmr, fluvius = metric_id(db, "dsmr", "energy_import_t1"), metric_id(db, "fluvius", "energy_import_t1")
    write(db, dsmr, meter + zeros)
    run_jobs(db, imported - timedelta(hours=1))
    meter_hours = {s: r["delta"] for s, r in aggregates(db, "hour", dsmr).items()}
    write(db, fluvius, portal)
    run_jobs(db, imported)
    truth = outage_truth(house)
    imported_kwh = flow_days(db, "imported_kwh")
    assert {d: imported_kwh[d] for d in truth} == {d: pytest.approx(v, abs=0.005) for d, v in truth.items()}
    # the hours, as July 4 is not complete before the cleanup
    assert sum(flow_hours(db, "imported_kwh").values()) == pytest.approx(meter[-1][1] - meter[0][1], abs=0.005)
    after_import = aggregates(db, "hour", dsmr)  # the meter's own hours, as they were before the import
    assert {s: after_import[s]["delta"] for s in meter_hours} == {
        s: pytest.approx(v, abs=1e-9) for s, v in meter_hours.items()}
    assert_consistent(db, "imported_kwh")


def test_zeros_from_the_lost_link_with_the_portal_there_first(db):
    # As above, but the portal's July 2 is in the database before the meter's readings come back.
    house, meter, portal = outage_house()
    zeros = [(ts, 0.0) for ts in (DOWN + timedelta(minutes=10 * i + 2) for i in range(300)) if ts < BACK]
    dsmr, fluvius = metric_id(db, "dsmr", "energy_import_t1"), metric_id(db, "fluvius", "energy_import_t1")
    write(db, dsmr, [r for r in meter + zeros if r[0] < local(2026, 7, 3, 8)])
    write(db, fluvius, portal)
    run_jobs(db, local(2026, 7, 3, 8, 5))
    write(db, dsmr, [r for r in meter + zeros if r[0] >= local(2026, 7, 3, 8)])
    run_jobs(db, local(2026, 7, 4, 3, 5))
    truth = outage_truth(house)
    imported = flow_days(db, "imported_kwh")
    assert {d: imported[d] for d in truth} == {d: pytest.approx(v, abs=0.005) for d, v in truth.items()}
    assert_consistent(db, "imported_kwh")


# --- gas, tariffs, a collector up for a minute, the inverter's zeros with the cloud's history ----------------------


def test_hourly_gas_captures_lost_for_two_days_and_the_portals_gas_of_one(db):
    # The gas meter's M-Bus link fails: the P1 telegram repeats the capture of July 1 18:00 until July 3 12:00 (so
    # no new reading is stored). The portal's hourly gas of July 2 is imported on July 6. The heating takes 0.6 m3
    # an hour in the outage's other hours.
    down, back = local(2026, 7, 1, 18), local(2026, 7, 3, 12)
    covered = [(local(2026, 7, 2), local(2026, 7, 3))]
    house, meter, _ = outage_case(down, back, covered, local(2026, 7, 1), local(2026, 7, 4, 3),
                                  every=timedelta(hours=1))
    gas, portal = metric_id(db, "dsmr", "gas_volume"), metric_id(db, "fluvius", "gas_volume")
    write(db, gas, meter)
    run_jobs(db, local(2026, 7, 6, 3))
    write(db, portal, house.quarters(*covered[0], every=timedelta(hours=1)))
    run_jobs(db, local(2026, 7, 6, 4))
    truth = days_of(house, date(2026, 7, 1), date(2026, 7, 3))
    gas_days = flow_days(db, "gas_m3")
    assert {d: gas_days[d] for d in truth} == {d: pytest.approx(v, abs=0.005) for d, v in truth.items()}
    hours = flow_hours(db, "gas_m3")
    assert [hours[local(2026, 7, 1, h)] for h in range(18, 24)] == [pytest.approx(0.6, abs=0.001)] * 6
    assert_consistent(db, "gas_m3")


def tariff(ts: datetime) -> int:
    """The Belgian register in use: 1 (day) on weekdays 07:00-22:00, 2 (night) otherwise."""
    wall = ts.astimezone(BRUSSELS)
    return 1 if wall.weekday() < 5 and 7 <= wall.hour < 22 else 2


def test_both_tariff_registers_over_an_outage_with_the_portal_in_the_middle(db):
    # From Friday July 3 17:58 to Monday July 6 09:03 the collector is down; the portal's Saturday and Sunday are
    # imported later (night tariff all weekend). Each register's increase over the outage is all there, and the
    # portal's days are the portal's.
    down, back = local(2026, 7, 3, 17, 58), local(2026, 7, 6, 9, 3)
    covered = [(local(2026, 7, 4), local(2026, 7, 6))]
    house, meter, portal = outage_case(down, back, covered, local(2026, 7, 3), local(2026, 7, 7, 0, 3))
    registers = {}
    for register in (1, 2):
        consumption = House(local(2026, 7, 3), lambda ts, r=register: house.rate(ts) if tariff(ts) == r else 0.0)
        readings = [(ts, consumption.reading(ts)) for ts, _ in meter]
        registers[register] = consumption
        write(db, metric_id(db, "dsmr", f"energy_import_t{register}"), readings)
    run_jobs(db, local(2026, 7, 8, 3))
    for register in (1, 2):
        write(db, metric_id(db, "fluvius", f"energy_import_t{register}"),
              [(ts, round(registers[register].between(ts, ts + timedelta(minutes=15)), 3)) for ts, _ in portal])
    run_jobs(db, local(2026, 7, 8, 4))
    for register, column in ((1, "imported_day_kwh"), (2, "imported_night_kwh")):
        truth = days_of(registers[register], date(2026, 7, 3), date(2026, 7, 6))
        got = flow_days(db, column)
        assert sum(got[d] for d in truth) == pytest.approx(sum(truth.values()), abs=0.005), column
        assert {d: got[d] for d in (date(2026, 7, 4), date(2026, 7, 5))} == {
            d: pytest.approx(truth[d], abs=0.005) for d in (date(2026, 7, 4), date(2026, 7, 5))}, column
        assert_consistent(db, column)


def test_a_collector_up_for_one_reading_in_the_middle_of_the_outage(db):
    # The collector is down from July 1 17:58, sends one reading at July 2 13:07 (a restart that failed again), and
    # is back at July 3 12:03. The portal's July 2 is imported after the cleanup. Two steps, each partly covered.
    house, meter, portal = outage_house()
    dsmr, fluvius = metric_id(db, "dsmr", "energy_import_t1"), metric_id(db, "fluvius", "energy_import_t1")
    write(db, dsmr, [*meter, (local(2026, 7, 2, 13, 7), house.reading(local(2026, 7, 2, 13, 7)))])
    run_jobs(db, local(2026, 7, 6, 3))
    write(db, fluvius, portal)
    run_jobs(db, local(2026, 7, 6, 4))
    assert_outage_days(db, house)


def test_the_dongles_zeros_with_the_clouds_hourly_history_imported_later(db):
    # The SDongle answers 0 for energy_yield_total from July 1 18:05 to July 4 06:00 (the known SUN2000 glitch); on
    # July 6 `ingest.fusionsolar --history` imports the hourly production of July 2 and 3. The panels make 3 kWh an
    # hour from 06:00 to 18:00.
    house = House(local(2026, 7, 1), lambda ts: 3.0 if 6 <= hour_of(ts) < 18 else 0.0, base=1000.0)
    readings = house.readings(local(2026, 7, 1), local(2026, 7, 5, 1), timedelta(minutes=5))
    down = local(2026, 7, 1, 18, 5), local(2026, 7, 4, 6)
    inverter = metric_id(db, "sun2000", "energy_yield_total")
    write(db, inverter, [(ts, 0.0 if down[0] <= ts < down[1] else v) for ts, v in readings])
    run_jobs(db, local(2026, 7, 6, 3))
    hours = [local(2026, 7, 2) + timedelta(hours=i) for i in range(48)]
    write(db, metric_id(db, "fusionsolar", "energy_yield_hour"),
          [(h, round(house.between(h, h + timedelta(hours=1)), 3)) for h in hours])
    run_jobs(db, local(2026, 7, 6, 4))
    produced = flow_days(db, "produced_kwh")
    assert {d: produced[d] for d in days_of(house, date(2026, 7, 1), date(2026, 7, 4))} == {
        d: pytest.approx(36.0, abs=0.005) for d in days_of(house, date(2026, 7, 1), date(2026, 7, 4))}
    assert_consistent(db, "produced_kwh")


# --- any outages, any portal spans, any arrival order ---------------------------------------------------------------


@settings(max_examples=12, deadline=None, derandomize=True, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_outages_and_portal_spans_add_up_to_the_meter(pg_server, template, data):
    # The house takes a different amount each hour; the meter is read every 10 minutes from July 1
    # to July 6 but for one or two outages; the portal gives quarter hours of one or two spans; meter readings and
    # portal spans arrive in batches with the jobs run at random times, some after the cleanup. The days July 1-5
    # add up to the meter's increase, no hour is below zero, days add up to the months.
    rates = data.draw(st.lists(st.sampled_from([0.0, 0.2, 0.5, 1.2, 2.4, 3.6]), min_size=24 * 6, max_size=24 * 6))
    start = local(2026, 7, 1)
    house = House(start, lambda ts: rates[int((ts - start) / timedelta(hours=1))])
    minutes = st.integers(6 * 60, 4 * 24 * 60 + 18 * 60)  # within July 1 06:00 and July 5 18:00
    outages = [sorted(data.draw(st.tuples(minutes, minutes))) for _ in range(data.draw(st.integers(1, 2)))]
    meter = [r for r in house.readings(start, local(2026, 7, 6), timedelta(minutes=10))
             if not any(a < (r[0] - start) / MINUTE < b for a, b in outages)]
    quarters = st.integers(0, 5 * 96)
    spans = [sorted(data.draw(st.tuples(quarters, quarters))) for _ in range(data.draw(st.integers(1, 2)))]
    portal = sorted({q for a, b in spans for q in house.quarters(start + a * timedelta(minutes=15),
                                                                 start + b * timedelta(minutes=15))})
    batches = [("meter", part) for part in (meter[: len(meter) // 2], meter[len(meter) // 2:])] + [
        ("portal", portal)]
    order = data.draw(st.permutations(batches))
    with fresh_database(pg_server, template) as db:
        ids = {"meter": metric_id(db, "dsmr", "energy_import_t1"), "portal": metric_id(db, "fluvius",
                                                                                        "energy_import_t1")}
        clock = local(2026, 7, 1)
        for name, readings in order:
            write(db, ids[name], readings)
            clock += timedelta(hours=data.draw(st.integers(1, 72)))
            run_jobs(db, clock)
        run_jobs(db, local(2026, 8, 3, 3))
        imported = flow_days(db, "imported_kwh")
        days = [date(2026, 7, d) for d in range(1, 6)]
        assert sum(imported.get(d, 0.0) for d in days) == pytest.approx(meter[-1][1] - meter[0][1], abs=0.01)
        assert_consistent(db, "imported_kwh")


@pytest.mark.xfail(strict=True, reason=(
    "hour_flows gives the 17:00 hour to the portal (the meter's outage step touches it) though the portal has only "
    "3 of its 4 quarters: the 0.3 kWh of 17:15-17:30 that the meter read is lost: July 1 says 24.88 kWh, the house "
    "took 25.18 (and July 3 21.561 for 21.57, the 3-quarter hour taken as even for 17:58-18:00); found by the "
    "property test above with more examples: a portal span starting at 06:30 lost the meter's 1.2 kWh of 06:00-06:30"))
def test_an_empty_quarter_in_the_portals_hour_where_the_outage_starts(db):
    # The portal's export of July 1 and 2 has an empty cell at July 1 17:15 (Fluvius had no reading of that
    # quarter); the collector is down from 17:58. The meter read 17:00-17:58 itself.
    house, meter, _ = outage_house()
    portal = [q for q in house.quarters(local(2026, 7, 1), local(2026, 7, 3)) if q[0] != local(2026, 7, 1, 17, 15)]
    dsmr, fluvius = metric_id(db, "dsmr", "energy_import_t1"), metric_id(db, "fluvius", "energy_import_t1")
    write(db, dsmr, meter)
    write(db, fluvius, portal)
    run_jobs(db, local(2026, 7, 4, 3))
    truth = outage_truth(house)
    imported = flow_days(db, "imported_kwh")
    assert {d: imported[d] for d in truth} == {d: pytest.approx(v, abs=0.005) for d, v in truth.items()}
