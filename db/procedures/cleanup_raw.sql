-- The daily cleanup (job energy-cleanup): removes raw readings of the day before yesterday and older (local
-- calendar), never those of an hour or day not aggregated yet, nor of an hour waiting to be redone from raw.
-- Whole daily partitions are dropped; from the default partition only the newly cleaned span is deleted (older
-- rows there are late readings that energy.aggregate_hours merges and removes). It takes the raw table first, so
-- no writer is half-way through a reading it would drop, and gives up for this hour rather than keep writers
-- waiting for more than a few seconds.
CREATE OR REPLACE PROCEDURE energy.cleanup_raw(p_now timestamptz DEFAULT now())
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tz text := energy.time_zone();
    v_yesterday timestamptz := timezone(v_tz, timezone(v_tz, date_trunc('day', p_now, v_tz)) - interval '1 day');
    v_raw_from timestamptz;
    v_hours_done timestamptz;
    v_days_done timestamptz;
    v_limit timestamptz;
    v_partition regclass;
BEGIN
    SELECT done_until INTO v_raw_from FROM energy.agg_progress WHERE level = 'raw' FOR UPDATE;
    SELECT max(done_until) FILTER (WHERE level = 'hour'), max(done_until) FILTER (WHERE level = 'day')
    INTO v_hours_done, v_days_done FROM energy.agg_progress;
    IF v_hours_done IS NULL OR v_days_done IS NULL THEN
        RETURN;  -- nothing aggregated yet: every reading is still needed
    END IF;
    v_limit := least(v_yesterday, v_days_done, v_hours_done);
    IF v_limit <= coalesce(v_raw_from, '-infinity') THEN
        RETURN;
    END IF;
    SET LOCAL lock_timeout = '5s';
    LOCK TABLE energy.raw_reading IN ACCESS EXCLUSIVE MODE;
    -- Decided only now that no writer is mid-way: a late reading's mark commits with the reading.
    SELECT least(v_limit, min(period_start)) INTO v_limit
    FROM energy.stale_period WHERE level = 'hour' AND period_start >= coalesce(v_raw_from, '-infinity');
    IF v_limit <= coalesce(v_raw_from, '-infinity') THEN
        RETURN;
    END IF;
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
