-- Aggregates every complete local hour before p_now not yet done (catching up after missed runs), then redoes the
-- hours that received late readings. Safe to run twice or concurrently: the second run waits and finds nothing.
CREATE OR REPLACE PROCEDURE energy.aggregate_hours(p_now timestamptz DEFAULT now())
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tz text := energy.time_zone();
    v_target timestamptz := date_trunc('hour', p_now, v_tz);
    v_done timestamptz;
    v_raw_from timestamptz;
    v_from timestamptz;
    v_stale timestamptz[];
    v_hour timestamptz;
    v_next timestamptz;
BEGIN
    SELECT done_until INTO v_done FROM energy.agg_progress WHERE level = 'hour' FOR UPDATE;
    SELECT done_until INTO v_raw_from FROM energy.agg_progress WHERE level = 'raw';

    -- Late hours first, so that the catch-up below starts from settled counter values.
    WITH taken AS (
        DELETE FROM energy.stale_period WHERE level = 'hour' AND period_start < v_target RETURNING period_start
    )
    SELECT array_agg(DISTINCT period_start ORDER BY period_start) INTO v_stale FROM taken;
    FOREACH v_hour IN ARRAY coalesce(v_stale, '{}') LOOP
        IF v_hour < v_raw_from THEN
            CALL energy.merge_late_hour(v_hour, v_tz);
        ELSE
            CALL energy.recompute_hours(v_hour, v_hour + interval '1 hour', v_tz);
            -- A counter's next stored hour measured its delta from a value that the late readings may follow.
            FOR v_next IN
                SELECT DISTINCT next.period_start
                FROM energy.metric m
                CROSS JOIN LATERAL (
                    SELECT a.period_start FROM energy.agg_hour a
                    WHERE a.metric_id = m.id AND a.period_start > v_hour
                    ORDER BY a.period_start LIMIT 1
                ) next
                WHERE m.kind = 'counter' AND next.period_start <> ALL (v_stale)
            LOOP
                CALL energy.recompute_hours(v_next, v_next + interval '1 hour', v_tz);
            END LOOP;
        END IF;
    END LOOP;

    v_from := coalesce(v_done, (SELECT date_trunc('hour', min(ts), v_tz) FROM energy.raw_reading));
    IF v_from < v_target THEN
        CALL energy.recompute_hours(v_from, v_target, v_tz);
    END IF;
    UPDATE energy.agg_progress SET done_until = greatest(done_until, v_target) WHERE level = 'hour';
END
$$;
