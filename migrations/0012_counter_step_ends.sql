-- A counter step into an hour is now the step into its first reading that counts (not one the counter shows
-- below its high-water mark), and it starts at the last good reading (or, for a reset, at the drop): zeros from a
-- lost link spread what the counter rose meanwhile over the whole time, as if no readings had come. gap_to is the
-- reading that ends the step; so far it was always the hour's first reading.
ALTER TABLE energy.counter_hour ADD COLUMN gap_to timestamptz;
UPDATE energy.counter_hour c SET gap_to = a.first_ts
FROM energy.agg_hour a WHERE a.metric_id = c.metric_id AND a.period_start = c.period_start;
UPDATE energy.counter_hour SET gap_to = period_start WHERE gap_to IS NULL;
ALTER TABLE energy.counter_hour ALTER COLUMN gap_to SET NOT NULL;
COMMENT ON COLUMN energy.counter_hour.gap_to IS 'The reading the step into the hour (gap_in, from gap_from) ends at';
