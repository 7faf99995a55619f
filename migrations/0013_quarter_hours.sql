-- The quarter-hour level: the Belgian capacity tariff bills the month's highest quarter-hour average demand, so the
-- demand and power metrics are also aggregated per quarter hour (energy.agg_quarter, read as energy.quarterly).
-- Quarters are computed from raw readings together with their hour (energy.recompute_hours), so they are complete
-- before the cleanup removes the raw data, and redone with the hour when late readings arrive.

CREATE TABLE energy.agg_quarter (LIKE energy.agg_hour INCLUDING ALL);
ALTER TABLE energy.agg_quarter ADD FOREIGN KEY (metric_id) REFERENCES energy.metric (id);
COMMENT ON TABLE energy.agg_quarter IS 'Per quarterly metric and quarter hour: n, sum, time-weighted avg, min, max, first, last';

-- Built from raw readings, like hours (no source level).
INSERT INTO energy.agg_level (level, source_level, agg_table) VALUES ('quarter', NULL, 'energy.agg_quarter');

-- Which metrics get quarter hours: the powers and the meter's running quarter-hour demand (not the inverter's rated
-- power or its day peak, nor the meter's month peak, which is stored at its own time). Set it for your own metrics.
ALTER TABLE energy.metric ADD COLUMN quarterly boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN energy.metric.quarterly IS 'Also aggregated per quarter hour (energy.quarterly)';
UPDATE energy.metric SET quarterly = true
WHERE unit = 'W' AND kind = 'gauge' AND name NOT IN ('rated_power', 'power_peak_day', 'demand_max_month');
