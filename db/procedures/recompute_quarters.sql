-- Replaces the quarter hours of [p_from, p_to) with those of the raw readings there. Called by
-- energy.recompute_hours for the same span, so quarters are done, and redone, with their hours.
CREATE OR REPLACE PROCEDURE energy.recompute_quarters(p_from timestamptz, p_to timestamptz)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM energy.agg_quarter WHERE period_start >= p_from AND period_start < p_to;
    INSERT INTO energy.agg_quarter (metric_id, period_start, period_end, n, sum, avg, min, max, first, last,
                                    first_ts, last_ts)
    SELECT metric_id, period_start, period_end, n, sum, avg, min, max, first, last, first_ts, last_ts
    FROM energy.quarter_aggregates(p_from, p_to);
END
$$;
