-- Foundation: the energy schema, its settings, the metric catalog, the raw readings every collector writes,
-- and the application roles (privileges are granted by db/grants.sql on every deploy).

CREATE SCHEMA energy;
COMMENT ON SCHEMA energy IS 'brs5-energy: raw readings, their aggregates and the views people read';

-- One row of settings. Change the calendar with: UPDATE energy.settings SET time_zone = 'Europe/Amsterdam';
CREATE TABLE energy.settings (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    -- timezone() raises "time zone ... not recognized" for a name PostgreSQL does not know
    time_zone text NOT NULL DEFAULT 'Europe/Brussels'
        CHECK (timezone(time_zone, timestamptz '2000-01-01 00:00+00') IS NOT NULL)
);
INSERT INTO energy.settings DEFAULT VALUES;

CREATE TABLE energy.metric (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source text NOT NULL CHECK (source IN ('dsmr', 'sun2000', 'fusionsolar')),
    name text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]*$'),
    unit text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('gauge', 'counter')),
    description text NOT NULL,
    UNIQUE (source, name)
);
COMMENT ON TABLE energy.metric IS 'What can be measured: gauges are instantaneous values, counters only ever increase';

INSERT INTO energy.metric (source, name, unit, kind, description) VALUES
    ('dsmr', 'energy_import_t1', 'kWh', 'counter', 'Energy imported from the grid, tariff 1 (day) (1-0:1.8.1)'),
    ('dsmr', 'energy_import_t2', 'kWh', 'counter', 'Energy imported from the grid, tariff 2 (night) (1-0:1.8.2)'),
    ('dsmr', 'energy_export_t1', 'kWh', 'counter', 'Energy exported to the grid, tariff 1 (day) (1-0:2.8.1)'),
    ('dsmr', 'energy_export_t2', 'kWh', 'counter', 'Energy exported to the grid, tariff 2 (night) (1-0:2.8.2)'),
    ('dsmr', 'power_import', 'W', 'gauge', 'Power drawn from the grid (1-0:1.7.0)'),
    ('dsmr', 'power_export', 'W', 'gauge', 'Power fed into the grid (1-0:2.7.0)'),
    ('dsmr', 'power_import_l1', 'W', 'gauge', 'Power drawn from the grid on phase L1 (1-0:21.7.0)'),
    ('dsmr', 'power_import_l2', 'W', 'gauge', 'Power drawn from the grid on phase L2 (1-0:41.7.0)'),
    ('dsmr', 'power_import_l3', 'W', 'gauge', 'Power drawn from the grid on phase L3 (1-0:61.7.0)'),
    ('dsmr', 'power_export_l1', 'W', 'gauge', 'Power fed into the grid on phase L1 (1-0:22.7.0)'),
    ('dsmr', 'power_export_l2', 'W', 'gauge', 'Power fed into the grid on phase L2 (1-0:42.7.0)'),
    ('dsmr', 'power_export_l3', 'W', 'gauge', 'Power fed into the grid on phase L3 (1-0:62.7.0)'),
    ('dsmr', 'voltage_l1', 'V', 'gauge', 'Voltage of phase L1 (1-0:32.7.0)'),
    ('dsmr', 'voltage_l2', 'V', 'gauge', 'Voltage of phase L2 (1-0:52.7.0)'),
    ('dsmr', 'voltage_l3', 'V', 'gauge', 'Voltage of phase L3 (1-0:72.7.0)'),
    ('dsmr', 'current_l1', 'A', 'gauge', 'Current of phase L1 (1-0:31.7.0)'),
    ('dsmr', 'current_l2', 'A', 'gauge', 'Current of phase L2 (1-0:51.7.0)'),
    ('dsmr', 'current_l3', 'A', 'gauge', 'Current of phase L3 (1-0:71.7.0)'),
    ('dsmr', 'demand_avg_quarter', 'W', 'gauge', 'Average demand of the running quarter hour, capacity tariff (1-0:1.4.0)'),
    ('dsmr', 'demand_max_month', 'W', 'gauge', 'Highest quarter-hour demand this month, stored at its own time (1-0:1.6.0)'),
    ('dsmr', 'tariff', '', 'gauge', 'Active tariff: 1 day, 2 night (0-0:96.14.0)'),
    ('dsmr', 'gas_volume', 'm3', 'counter', 'Gas meter reading at its capture time (0-n:24.2.3, M-Bus device type 003)'),
    ('dsmr', 'water_volume', 'm3', 'counter', 'Water meter reading at its capture time (0-n:24.2.1, M-Bus device type 007)'),
    ('sun2000', 'power_input', 'W', 'gauge', 'DC power from the panels (32064)'),
    ('sun2000', 'power_active', 'W', 'gauge', 'AC power the inverter delivers (32080)'),
    ('sun2000', 'power_reactive', 'var', 'gauge', 'Reactive power (32082)'),
    ('sun2000', 'power_factor', '', 'gauge', 'Power factor (32084)'),
    ('sun2000', 'energy_yield_total', 'kWh', 'counter', 'Energy produced since installation (32106)'),
    ('sun2000', 'energy_yield_day', 'kWh', 'gauge', 'Energy produced today, reset at midnight by the inverter (32114)'),
    ('sun2000', 'rated_power', 'W', 'gauge', 'Rated power of the inverter (30073)'),
    ('sun2000', 'efficiency', '%', 'gauge', 'Conversion efficiency (32086)'),
    ('sun2000', 'temperature_internal', '°C', 'gauge', 'Internal temperature (32087)'),
    ('sun2000', 'device_status', '', 'gauge', 'Device status code (32089), 512 = on-grid'),
    ('sun2000', 'grid_frequency', 'Hz', 'gauge', 'Grid frequency (32085)'),
    ('sun2000', 'pv_01_voltage', 'V', 'gauge', 'PV string 1 voltage (32016)'),
    ('sun2000', 'pv_01_current', 'A', 'gauge', 'PV string 1 current (32017)'),
    ('sun2000', 'pv_02_voltage', 'V', 'gauge', 'PV string 2 voltage (32018)'),
    ('sun2000', 'pv_02_current', 'A', 'gauge', 'PV string 2 current (32019)'),
    ('sun2000', 'grid_voltage_a', 'V', 'gauge', 'Phase A voltage (32069)'),
    ('sun2000', 'grid_voltage_b', 'V', 'gauge', 'Phase B voltage (32070)'),
    ('sun2000', 'grid_voltage_c', 'V', 'gauge', 'Phase C voltage (32071)'),
    ('sun2000', 'grid_current_a', 'A', 'gauge', 'Phase A current (32072)'),
    ('sun2000', 'grid_current_b', 'A', 'gauge', 'Phase B current (32074)'),
    ('sun2000', 'grid_current_c', 'A', 'gauge', 'Phase C current (32076)'),
    ('sun2000', 'power_meter', 'W', 'gauge', 'Grid power at the inverter''s meter, positive when feeding in (37113)'),
    ('sun2000', 'meter_energy_export', 'kWh', 'counter', 'Energy exported, seen by the inverter''s meter (37119)'),
    ('sun2000', 'meter_energy_import', 'kWh', 'counter', 'Energy imported, seen by the inverter''s meter (37121)'),
    ('sun2000', 'battery_soc', '%', 'gauge', 'Battery state of charge (37760)'),
    ('sun2000', 'battery_power', 'W', 'gauge', 'Battery charge (+) or discharge (-) power (37765)'),
    ('fusionsolar', 'power_active', 'W', 'gauge', 'AC power the inverter delivers, from the FusionSolar cloud'),
    ('fusionsolar', 'energy_yield_day', 'kWh', 'gauge', 'Energy produced today, from the FusionSolar cloud'),
    ('fusionsolar', 'energy_yield_total', 'kWh', 'counter', 'Energy produced since installation, from the FusionSolar cloud'),
    ('fusionsolar', 'efficiency', '%', 'gauge', 'Conversion efficiency, from the FusionSolar cloud'),
    ('fusionsolar', 'temperature_internal', '°C', 'gauge', 'Internal temperature, from the FusionSolar cloud');

-- Partitioned by local day (partitions are made ahead by energy.create_raw_partitions) so that the cleanup
-- drops a day instead of deleting millions of rows. The default partition takes any other timestamp.
CREATE TABLE energy.raw_reading (
    ts timestamptz NOT NULL,
    metric_id integer NOT NULL REFERENCES energy.metric (id),
    value double precision NOT NULL CHECK (value NOT IN ('NaN', 'Infinity', '-Infinity')),
    PRIMARY KEY (metric_id, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE energy.raw_reading_default PARTITION OF energy.raw_reading DEFAULT;
CREATE INDEX raw_reading_ts_brin ON energy.raw_reading USING brin (ts);
COMMENT ON TABLE energy.raw_reading IS 'Every reading of every collector; one per (metric, ts): a replayed reading is absorbed';

-- Cluster-wide roles, created once; each database grants them what they may do (db/grants.sql).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'energy_ingest') THEN
        CREATE ROLE energy_ingest LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'energy_web') THEN
        CREATE ROLE energy_web LOGIN;
    END IF;
END
$$;
