-- Aggregates every complete local hour before p_now not yet done (catching up after missed runs), after redoing
-- the hours that received late readings: recomputed from raw where raw is still kept, merged into the stored hour
-- where the cleanup already passed. Consecutive hours are done in one pass. Safe to run twice or concurrently:
-- the second run waits and finds nothing to do.
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
    v_run record;
BEGIN
    SELECT done_until INTO v_done FROM energy.agg_progress WHERE level = 'hour' FOR UPDATE;
    -- The cleanup waits for this run (and this run for it): raw data is never dropped under a recompute.
    SELECT done_until INTO v_raw_from FROM energy.agg_progress WHERE level = 'raw' FOR SHARE;
    -- Late readings below the cleanup horizon live in the default partition and are removed once folded in: no
    -- writer may add one between the reading and the removal (writers to the daily partitions never wait).
    LOCK TABLE energy.raw_reading_default IN SHARE ROW EXCLUSIVE MODE;

    -- Late hours first, in time order, so that each continues from settled counter states. Runs of consecutive
    -- hours that need the same treatment are done together.
    FOR v_run IN
        WITH taken AS (
            DELETE FROM energy.stale_period WHERE level = 'hour' AND period_start < v_target RETURNING period_start
        ),
        late AS (
            SELECT DISTINCT t.period_start AS hour FROM taken t WHERE t.period_start < coalesce(v_done, '-infinity')
        ),
        -- the late hours that already hold readings of their own (one range scan, not one lookup per hour)
        holding AS (
            SELECT DISTINCT a.period_start
            FROM energy.agg_hour a JOIN energy.metric m ON m.id = a.metric_id
            WHERE a.n > 0 AND m.source <> 'flow'
              AND a.period_start >= (SELECT min(hour) FROM late) AND a.period_start <= (SELECT max(hour) FROM late)
        ),
        hours AS (
            SELECT l.hour,
                   CASE WHEN l.hour >= coalesce(v_raw_from, '-infinity') THEN 'recompute'
                        WHEN h.period_start IS NOT NULL THEN 'merge'
                        ELSE 'fresh' END AS how
            FROM late l LEFT JOIN holding h ON h.period_start = l.hour
        ),
        grouped AS (
            SELECT h.*, h.hour - (row_number() OVER (PARTITION BY h.how ORDER BY h.hour)) * interval '1 hour' AS run
            FROM hours h
        )
        SELECT how, min(hour) AS run_from, max(hour) + interval '1 hour' AS run_to
        FROM grouped GROUP BY how, run ORDER BY min(hour)
    LOOP
        IF v_run.how = 'merge' THEN
            CALL energy.merge_late_hours(v_run.run_from, v_run.run_to, v_tz);
        ELSE
            CALL energy.recompute_hours(v_run.run_from, v_run.run_to, v_tz);
            IF v_run.how = 'fresh' THEN
                -- Their days were cleaned: the readings now live in the aggregates only.
                DELETE FROM energy.raw_reading_default WHERE ts >= v_run.run_from AND ts < v_run.run_to;
            END IF;
        END IF;
    END LOOP;

    v_from := coalesce(v_done, (SELECT date_trunc('hour', min(ts), v_tz) FROM energy.raw_reading));
    IF v_from < v_target THEN
        CALL energy.recompute_hours(v_from, v_target, v_tz);
    END IF;
    UPDATE energy.agg_progress SET done_until = greatest(done_until, v_target) WHERE level = 'hour';
END
$$;
