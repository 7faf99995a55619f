-- Replaces the aggregates of p_level whose period starts in [p_from, p_to) with a rollup of its source level,
-- and marks the parent periods already aggregated. The table comes from energy.agg_level, never from a caller.
CREATE OR REPLACE PROCEDURE energy.recompute_level(p_level text, p_from timestamptz, p_to timestamptz, p_tz text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_table regclass;
    v_source text;
BEGIN
    SELECT agg_table, source_level INTO STRICT v_table, v_source FROM energy.agg_level WHERE level = p_level;
    EXECUTE format('DELETE FROM %s WHERE period_start >= $1 AND period_start < $2', v_table) USING p_from, p_to;
    EXECUTE format('INSERT INTO %s (metric_id, period_start, period_end, n, sum, avg, min, max, first, last, '
                   'first_ts, last_ts, delta, estimated) SELECT * FROM energy.rollup($3, $4, $1, $2, $5)', v_table)
        USING p_from, p_to, v_source, p_level, p_tz;
    CALL energy.mark_parents_stale(p_level, p_from, p_to, p_tz);
END
$$;
