-- Replaces the hour aggregates of [p_from, p_to) with those of the raw readings there, and marks the days
-- already aggregated that contain them for energy.aggregate_days to redo.
CREATE OR REPLACE PROCEDURE energy.recompute_hours(p_from timestamptz, p_to timestamptz, p_tz text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM energy.agg_hour WHERE period_start >= p_from AND period_start < p_to;
    INSERT INTO energy.agg_hour SELECT * FROM energy.hour_aggregates(p_from, p_to, p_tz);
    CALL energy.mark_parents_stale('hour', p_from, p_to, p_tz);
END
$$;
