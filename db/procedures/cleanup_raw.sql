-- The daily cleanup (job energy-cleanup): removes raw readings of the day before yesterday and older (local
-- calendar), never those of an hour or day not aggregated yet, nor of an hour waiting to be redone from raw.
-- Whole daily partitions are dropped; from the default partition only the newly cleaned span is deleted (older
-- rows there are late readings that energy.aggregate_hours merges and removes). Runs after the aggregation it
-- waits for, and gives up for this hour rather than hold writers waiting for more than a few seconds.
CREATE OR REPLACE PROCEDURE energy.cleanup_raw(p_now timestamptz DEFAULT now())
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tz text := energy.time_zone();
    v_yesterday timestamptz := timezone(v_tz, timezone(v_tz, date_trunc('day', p_now, v_tz)) - interval '1 day');
    v_raw_from timestamptz;
    v_limit timestamptz;
    v_partition regclass;
BEGIN
    SELECT done_until INTO v_raw_from FROM energy.agg_progress WHERE level = 'raw' FOR UPDATE;
    SELECT least(v_yesterday, max(done_until) FILTER (WHERE level = 'day'),
                 max(done_until) FILTER (WHERE level = 'hour'))
    INTO v_limit FROM energy.agg_progress;
    SELECT least(v_limit, min(period_start)) INTO v_limit
    FROM energy.stale_period WHERE level = 'hour' AND period_start >= coalesce(v_raw_from, '-infinity');
    IF v_limit IS NULL OR v_limit <= coalesce(v_raw_from, '-infinity') THEN
        RETURN;
    END IF;
    SET LOCAL lock_timeout = '5s';
    FOR v_partition IN
        SELECT c.oid::regclass
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'energy.raw_reading'::regclass
          AND (regexp_match(pg_get_expr(c.relpartbound, c.oid), $r$TO \('([^']+)'\)$r$))[1]::timestamptz <= v_limit
    LOOP
        EXECUTE format('DROP TABLE %s', v_partition);
    END LOOP;
    DELETE FROM energy.raw_reading_default WHERE ts < v_limit AND ts >= coalesce(v_raw_from, '-infinity');
    UPDATE energy.agg_progress SET done_until = v_limit WHERE level = 'raw';
EXCEPTION WHEN lock_not_available THEN
    RAISE NOTICE 'raw cleanup postponed: writers held the raw table for more than 5 s';
END
$$;
