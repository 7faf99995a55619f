-- Replaces the aggregates of p_level whose period starts in [p_from, p_to) with a rollup of its source level,
-- and marks the parent periods already aggregated.
CREATE OR REPLACE PROCEDURE energy.recompute_level(
    p_level text, p_table text, p_source_table text, p_from timestamptz, p_to timestamptz, p_tz text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format('DELETE FROM %s WHERE period_start >= $1 AND period_start < $2', p_table) USING p_from, p_to;
    EXECUTE format('INSERT INTO %s SELECT * FROM energy.rollup(%L, %L, $1, $2, $3)', p_table, p_source_table, p_level)
        USING p_from, p_to, p_tz;
    CALL energy.mark_parents_stale(p_level, p_from, p_to, p_tz);
END
$$;
