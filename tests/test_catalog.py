"""The metric catalog (energy.metric, from the migrations) and the Python maps that name metrics (OBIS codes,
SUN2000 registers, FusionSolar KPIs and history, the Mijn Fluvius registers) say the same: every name a collector or
the importer can produce exists under the source that writes it, with the unit the map converts to, and the catalog
has no metric of those sources that nothing produces."""

from datetime import timedelta

import pytest

from ingest import fusionsolar, fusionsolar_history, obis, portal, registers

# What each map can produce: name -> the unit it converts to (None: the map names no unit).
DSMR = {
    **{field.metric: field.unit for field in (*obis.AT_TELEGRAM_TIME.values(), *obis.AT_OWN_TIME.values())},
    **{obis.mbus_metric(base, number): unit for base, unit in obis.MBUS_DEVICE_TYPES.values()
       for number in range(1, obis.MBUS_CHANNELS + 1)},
}
SUN2000 = {register.metric: register.unit for register in registers.REGISTERS if register.metric}
FUSIONSOLAR = {name: None for name in fusionsolar.METRICS | fusionsolar_history.HISTORY_METRICS}
FLUVIUS = {name: unit for (_, unit), name in portal.REGISTERS.items()}
PRODUCED = {"dsmr": DSMR, "sun2000": SUN2000, "fusionsolar": FUSIONSOLAR, "fluvius": FLUVIUS}


@pytest.fixture
def catalog(db) -> dict[tuple[str, str], tuple[str, str, int | None]]:
    """(source, name) -> (unit, kind, interval_seconds) of every catalog metric."""
    rows = db.execute("SELECT source, name, unit, kind, interval_seconds FROM energy.metric").fetchall()
    return {(source, name): tuple(rest) for source, name, *rest in rows}


def test_the_maps_are_what_the_collectors_write():
    # the sets the collectors hand their writers are the maps this module reads
    assert set(DSMR) == obis.METRICS and set(SUN2000) == registers.METRICS
    assert {f"pv_{n:02}_{q}" for n in range(1, 25) for q in ("voltage", "current")} <= SUN2000.keys()


@pytest.mark.parametrize("source", PRODUCED)
def test_every_metric_a_map_can_produce_is_in_the_catalog_with_its_source_and_unit(catalog, source):
    produced = PRODUCED[source]
    listed = {name for catalog_source, name in catalog if catalog_source == source}
    assert sorted(produced.keys() - listed) == [], "produced but not in energy.metric"
    assert sorted(listed - produced.keys()) == [], "in energy.metric but produced by nothing"
    units = {name: catalog[source, name][0] for name, unit in produced.items() if unit is not None}
    assert units == {name: unit for name, unit in produced.items() if unit is not None}


def test_the_only_other_source_is_the_flows_the_database_derives(catalog):
    assert {source for source, _ in catalog} - PRODUCED.keys() == {"flow"}


def test_the_cloud_reports_in_the_inverters_names_units_and_kinds(catalog):
    # FusionSolar's KPI factors convert to the units of the same figure read over Modbus
    for name in fusionsolar.METRICS:
        assert catalog["fusionsolar", name] == catalog["sun2000", name], name
    assert catalog["fusionsolar", fusionsolar_history.METRIC] == ("kWh", "amount", 3600)


def test_portal_history_is_amounts_of_the_intervals_the_portal_exports(catalog):
    # electricity as quarter-hour totals, gas as hourly totals: the importer reads only these
    intervals = {name: catalog["fluvius", name][1:] for name in FLUVIUS}
    quarter, hour = 900, 3600
    assert intervals == {"energy_import_t1": ("amount", quarter), "energy_import_t2": ("amount", quarter),
                         "energy_export_t1": ("amount", quarter), "energy_export_t2": ("amount", quarter),
                         "gas_volume": ("amount", hour), "gas_energy": ("amount", hour)}
    assert set(portal.REPORTS) == {timedelta(seconds=quarter), timedelta(seconds=hour)}
