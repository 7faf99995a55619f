-- Marks for recomputation the already aggregated periods of the levels built from p_level that overlap [p_from, p_to).
CREATE OR REPLACE PROCEDURE energy.mark_parents_stale(p_level text, p_from timestamptz, p_to timestamptz, p_tz text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_parent text;
    v_done timestamptz;
    v_start timestamptz;
BEGIN
    FOR v_parent, v_done IN
        SELECT l.level, p.done_until
        FROM energy.agg_level l JOIN energy.agg_progress p ON p.level = l.level
        WHERE l.source_level = p_level
    LOOP
        v_start := date_trunc(v_parent, p_from, p_tz);
        -- a NULL watermark (nothing aggregated yet) ends the loop at once
        WHILE v_start < p_to AND v_start < v_done LOOP
            INSERT INTO energy.stale_period (level, period_start)
            SELECT v_parent, v_start
            WHERE NOT EXISTS (SELECT FROM energy.stale_period WHERE level = v_parent AND period_start = v_start);
            v_start := energy.period_end(v_start, v_parent, p_tz);
        END LOOP;
    END LOOP;
END
$$;
