-- Plausible ranges per metric, as data: collectors store no reading outside [min_value, max_value], and no counter
-- reading that rose faster than max_rise_per_hour since the previous one (a corrupt telegram, a misread register).
-- NULL means no limit. A counter that drops is not judged here: the aggregation tells a glitch from a reset.
ALTER TABLE energy.metric
    ADD COLUMN min_value double precision,
    ADD COLUMN max_value double precision,
    ADD COLUMN max_rise_per_hour double precision CHECK (max_rise_per_hour > 0),
    ADD CHECK (min_value <= max_value);
COMMENT ON COLUMN energy.metric.max_rise_per_hour IS
    'Counters: the largest believable increase per hour; a faster rise is a corrupt reading, not energy';

-- A Belgian household connection is at most 3 x 63 A (about 44 kW); meters count up to 999,999.999.
UPDATE energy.metric m SET min_value = r.min_value, max_value = r.max_value, max_rise_per_hour = r.max_rise
FROM (VALUES
    ('dsmr', 'energy_import_t1', 0, 999999.999, 100),
    ('dsmr', 'energy_import_t2', 0, 999999.999, 100),
    ('dsmr', 'energy_export_t1', 0, 999999.999, 100),
    ('dsmr', 'energy_export_t2', 0, 999999.999, 100),
    ('dsmr', 'power_import', 0, 100000, NULL),
    ('dsmr', 'power_export', 0, 100000, NULL),
    ('dsmr', 'power_import_l1', 0, 50000, NULL),
    ('dsmr', 'power_import_l2', 0, 50000, NULL),
    ('dsmr', 'power_import_l3', 0, 50000, NULL),
    ('dsmr', 'power_export_l1', 0, 50000, NULL),
    ('dsmr', 'power_export_l2', 0, 50000, NULL),
    ('dsmr', 'power_export_l3', 0, 50000, NULL),
    ('dsmr', 'voltage_l1', 0, 500, NULL),
    ('dsmr', 'voltage_l2', 0, 500, NULL),
    ('dsmr', 'voltage_l3', 0, 500, NULL),
    ('dsmr', 'current_l1', 0, 500, NULL),
    ('dsmr', 'current_l2', 0, 500, NULL),
    ('dsmr', 'current_l3', 0, 500, NULL),
    ('dsmr', 'demand_avg_quarter', 0, 100000, NULL),
    ('dsmr', 'demand_max_month', 0, 100000, NULL),
    ('dsmr', 'tariff', 1, 2, NULL),
    ('dsmr', 'gas_volume', 0, 999999.999, 40),
    ('dsmr', 'water_volume', 0, 999999.999, 20),
    -- Residential and small commercial SUN2000 models: up to about 150 kW.
    ('sun2000', 'power_input', 0, 300000, NULL),
    ('sun2000', 'power_active', -300000, 300000, NULL),
    ('sun2000', 'power_reactive', -300000, 300000, NULL),
    ('sun2000', 'power_factor', -1, 1, NULL),
    ('sun2000', 'energy_yield_total', 0, 100000000, 500),
    ('sun2000', 'energy_yield_day', 0, 5000, NULL),
    ('sun2000', 'rated_power', 0, 1000000, NULL),
    ('sun2000', 'efficiency', 0, 100, NULL),
    ('sun2000', 'temperature_internal', -50, 150, NULL),
    ('sun2000', 'device_status', 0, 65535, NULL),
    ('sun2000', 'grid_frequency', 0, 70, NULL),
    ('sun2000', 'pv_01_voltage', 0, 1500, NULL),
    ('sun2000', 'pv_01_current', -100, 100, NULL),
    ('sun2000', 'pv_02_voltage', 0, 1500, NULL),
    ('sun2000', 'pv_02_current', -100, 100, NULL),
    ('sun2000', 'grid_voltage_a', 0, 500, NULL),
    ('sun2000', 'grid_voltage_b', 0, 500, NULL),
    ('sun2000', 'grid_voltage_c', 0, 500, NULL),
    ('sun2000', 'grid_current_a', -1000, 1000, NULL),
    ('sun2000', 'grid_current_b', -1000, 1000, NULL),
    ('sun2000', 'grid_current_c', -1000, 1000, NULL),
    ('sun2000', 'power_meter', -1000000, 1000000, NULL),
    ('sun2000', 'meter_energy_export', 0, 100000000, 500),
    ('sun2000', 'meter_energy_import', 0, 100000000, 500),
    ('sun2000', 'battery_soc', 0, 100, NULL),
    ('sun2000', 'battery_power', -100000, 100000, NULL),
    ('fusionsolar', 'power_active', -300000, 300000, NULL),
    ('fusionsolar', 'energy_yield_day', 0, 5000, NULL),
    ('fusionsolar', 'energy_yield_total', 0, 100000000, 500),
    ('fusionsolar', 'efficiency', 0, 100, NULL),
    ('fusionsolar', 'temperature_internal', -50, 150, NULL)
) AS r (source, name, min_value, max_value, max_rise)
WHERE m.source = r.source AND m.name = r.name;
