-- A counter step into an hour is now the step into its first reading that counts (not one the counter shows
-- below its high-water mark), and it starts at the last good reading (or, for a reset, at the drop): zeros from a
-- lost link spread what the counter rose meanwhile over the whole time, as if no readings had come. gap_to and
-- gap_value are the reading that ends the step; so far it was always the hour's first reading.
ALTER TABLE energy.counter_hour ADD COLUMN gap_to timestamptz, ADD COLUMN gap_value double precision;
UPDATE energy.counter_hour c SET gap_to = a.first_ts, gap_value = a.first
FROM energy.agg_hour a WHERE a.metric_id = c.metric_id AND a.period_start = c.period_start;
UPDATE energy.counter_hour SET gap_to = period_start, gap_value = hwm WHERE gap_to IS NULL OR gap_value IS NULL;
ALTER TABLE energy.counter_hour ALTER COLUMN gap_to SET NOT NULL, ALTER COLUMN gap_value SET NOT NULL;
COMMENT ON COLUMN energy.counter_hour.gap_to IS 'When the reading ending the step into the hour (gap_in) was taken';
COMMENT ON COLUMN energy.counter_hour.gap_value IS 'The value of the reading that ends the step into the hour';
