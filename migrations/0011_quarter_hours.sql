-- The quarter-hour level: the Belgian capacity tariff bills the month's highest quarter-hour average demand, so the
-- demand and power metrics are also aggregated per quarter hour (energy.agg_quarter, read as energy.quarterly).
-- Quarters are computed from raw readings together with their hour (energy.recompute_hours), so they are complete
-- before the cleanup removes the raw data, and redone with the hour when late readings arrive.

CREATE TABLE energy.agg_quarter (LIKE energy.agg_hour INCLUDING ALL);
ALTER TABLE energy.agg_quarter ADD FOREIGN KEY (metric_id) REFERENCES energy.metric (id);
COMMENT ON TABLE energy.agg_quarter IS 'Per quarterly metric and quarter hour: n, sum, time-weighted avg, min, max, first, last';

-- Built from raw readings, like hours (no source level).
INSERT INTO energy.agg_level (level, source_level, agg_table) VALUES ('quarter', NULL, 'energy.agg_quarter');

-- Which metrics get quarter hours: the meter's running quarter-hour demand (1-0:1.4.0) and the total powers of the
-- grid, the inverter and the battery (about 35,000 rows a year each; per-phase powers, the inverter's rated power
-- and day peak, and the meter's month peak are left out). UPDATE energy.metric SET quarterly = true for others.
ALTER TABLE energy.metric ADD COLUMN quarterly boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN energy.metric.quarterly IS 'Also aggregated per quarter hour (energy.quarterly)';
UPDATE energy.metric SET quarterly = true
WHERE (source, name) IN (('dsmr', 'demand_avg_quarter'), ('dsmr', 'power_import'), ('dsmr', 'power_export'),
                         ('sun2000', 'power_input'), ('sun2000', 'power_active'), ('sun2000', 'power_meter'),
                         ('sun2000', 'battery_power'), ('fusionsolar', 'power_active'));
