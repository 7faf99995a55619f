-- Aggregates every complete period of p_level ('day', 'week' or 'month') from its source level: first the
-- periods marked stale, then every period not yet done whose source periods are all aggregated.
CREATE OR REPLACE PROCEDURE energy.refresh_level(p_level text, p_now timestamptz)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tz text := energy.time_zone();
    v_source_table regclass;
    v_source_done timestamptz;
    v_done timestamptz;
    v_target timestamptz;
    v_from timestamptz;
    v_start timestamptz;
    v_end timestamptz;
BEGIN
    SELECT s.agg_table, sp.done_until INTO v_source_table, v_source_done
    FROM energy.agg_level l
    JOIN energy.agg_level s ON s.level = l.source_level
    JOIN energy.agg_progress sp ON sp.level = s.level
    WHERE l.level = p_level;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown aggregation level %', p_level USING HINT = 'Use day, week or month.';
    END IF;
    SELECT done_until INTO v_done FROM energy.agg_progress WHERE level = p_level FOR UPDATE;
    IF v_source_done IS NULL THEN
        RETURN;  -- nothing below is aggregated yet
    END IF;
    -- Complete periods: ended before p_now and made only of source periods already aggregated.
    v_target := date_trunc(p_level, least(p_now, v_source_done), v_tz);

    -- Stale periods first, consecutive ones together (three years of imported history are one pass, not 1,000).
    FOR v_start, v_end IN
        WITH taken AS (
            DELETE FROM energy.stale_period WHERE level = p_level AND period_start < v_target RETURNING period_start
        ),
        stale AS (
            SELECT DISTINCT period_start AS start, energy.period_end(period_start, p_level, v_tz) AS finish
            FROM taken WHERE period_start < coalesce(v_done, '-infinity')
        ),
        runs AS (
            SELECT s.*, count(*) FILTER (WHERE s.follows IS DISTINCT FROM true) OVER (ORDER BY s.start) AS run
            FROM (SELECT st.*, lag(st.finish) OVER (ORDER BY st.start) = st.start AS follows FROM stale st) s
        )
        SELECT min(start), max(finish) FROM runs GROUP BY run ORDER BY 1
    LOOP
        CALL energy.recompute_level(p_level, v_start, v_end, v_tz);
    END LOOP;

    IF v_done IS NULL THEN
        EXECUTE format('SELECT date_trunc($2, min(period_start), $1) FROM %s', v_source_table)
            INTO v_from USING v_tz, p_level;
    ELSE
        v_from := v_done;
    END IF;
    IF v_from < v_target THEN
        CALL energy.recompute_level(p_level, v_from, v_target, v_tz);
    END IF;
    UPDATE energy.agg_progress SET done_until = greatest(done_until, v_target) WHERE level = p_level;
END
$$;
