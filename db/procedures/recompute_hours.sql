-- Replaces the hour aggregates of [p_from, p_to) with those of the raw readings there, re-spreads the counter steps
-- that touch those hours, derives the hours' flows, and marks the parent periods already aggregated for a redo.
CREATE OR REPLACE PROCEDURE energy.recompute_hours(p_from timestamptz, p_to timestamptz, p_tz text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS recomputed_hour ON COMMIT DROP AS
        SELECT * FROM energy.hour_aggregates(p_from, p_to, p_tz) WITH NO DATA;
    TRUNCATE recomputed_hour;
    INSERT INTO recomputed_hour SELECT * FROM energy.hour_aggregates(p_from, p_to, p_tz);

    DELETE FROM energy.agg_hour WHERE period_start >= p_from AND period_start < p_to;
    DELETE FROM energy.counter_hour WHERE period_start >= p_from AND period_start < p_to;
    INSERT INTO energy.agg_hour (metric_id, period_start, period_end, n, sum, avg, min, max, first, last,
                                 first_ts, last_ts, delta, estimated)
    SELECT metric_id, period_start, period_end, n, sum, avg, min, max, first, last, first_ts, last_ts, delta, estimated
    FROM recomputed_hour;
    INSERT INTO energy.counter_hour (metric_id, period_start, rise, gap_in, gap_from, gap_to, gap_value, hwm,
                                     hwm_ts, low_since, low_first, simple)
    SELECT metric_id, period_start, rise, gap_in, gap_from, gap_to, gap_value, hwm, hwm_ts, low_since, low_first,
           simple
    FROM recomputed_hour WHERE rise IS NOT NULL;

    CALL energy.recompute_quarters(p_from, p_to);  -- the quarter-hour level is computed from the same raw readings
    CALL energy.spread_counter_steps(p_from, p_to, p_tz, p_walked => true);
END
$$;
