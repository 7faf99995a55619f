-- Folds late readings of an hour whose raw data was already cleaned into its stored aggregates, then removes
-- them. A counter's delta stays: the increase was already counted in the next hour that had readings.
CREATE OR REPLACE PROCEDURE energy.merge_late_hour(p_hour timestamptz, p_tz text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO energy.agg_hour AS a
    SELECT l.metric_id, l.period_start, l.period_end, l.n, l.sum, l.avg, l.min, l.max, l.first, l.last,
           l.first_ts, l.last_ts, CASE WHEN l.delta IS NOT NULL THEN 0 END
    FROM energy.hour_aggregates(p_hour, p_hour + interval '1 hour', p_tz) l
    ON CONFLICT (metric_id, period_start) DO UPDATE SET
        n = a.n + excluded.n,
        sum = a.sum + excluded.sum,
        avg = (a.sum + excluded.sum) / (a.n + excluded.n),
        min = least(a.min, excluded.min),
        max = greatest(a.max, excluded.max),
        first = CASE WHEN excluded.first_ts < a.first_ts THEN excluded.first ELSE a.first END,
        first_ts = least(a.first_ts, excluded.first_ts),
        last = CASE WHEN excluded.last_ts > a.last_ts THEN excluded.last ELSE a.last END,
        last_ts = greatest(a.last_ts, excluded.last_ts);
    DELETE FROM energy.raw_reading WHERE ts >= p_hour AND ts < p_hour + interval '1 hour';
    CALL energy.mark_parents_stale('hour', p_hour, p_hour + interval '1 hour', p_tz);
END
$$;
