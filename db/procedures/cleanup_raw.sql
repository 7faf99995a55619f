-- Removes raw readings of the day before yesterday and older (local calendar), never those of a day whose hours
-- and day are not aggregated yet. Whole daily partitions are dropped; the default partition is deleted from.
CREATE OR REPLACE PROCEDURE energy.cleanup_raw(p_now timestamptz DEFAULT now())
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tz text := energy.time_zone();
    v_yesterday timestamptz := timezone(v_tz, timezone(v_tz, date_trunc('day', p_now, v_tz)) - interval '1 day');
    v_days_done timestamptz;
    v_limit timestamptz;
    v_partition regclass;
BEGIN
    SELECT done_until INTO v_days_done FROM energy.agg_progress WHERE level = 'day';
    IF v_days_done IS NULL THEN
        RETURN;
    END IF;
    v_limit := least(v_yesterday, v_days_done,
                     (SELECT min(period_start) FROM energy.stale_period WHERE level = 'hour'));
    FOR v_partition IN
        SELECT c.oid::regclass
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'energy.raw_reading'::regclass
          AND (regexp_match(pg_get_expr(c.relpartbound, c.oid), $r$TO \('([^']+)'\)$r$))[1]::timestamptz <= v_limit
    LOOP
        EXECUTE format('DROP TABLE %s', v_partition);
    END LOOP;
    DELETE FROM energy.raw_reading_default WHERE ts < v_limit;
    UPDATE energy.agg_progress SET done_until = greatest(done_until, v_limit) WHERE level = 'raw';
END
$$;
