-- Notes the already aggregated hours that receive readings (replays after an outage, late devices, imported
-- history) so that the next energy.aggregate_hours redoes them, and drops at once a replay of a reading that an
-- hour already counted after its raw day was cleaned (a meter resending its month peak with the old time).
-- Takes no lock that an aggregation holds: a writer never waits for, or deadlocks with, a job. An hour that ended
-- before now is noted even above the watermark, so a reading that races a running aggregation is never missed.
-- SECURITY DEFINER, owned by energy_engine: the ingest role itself may only insert.
CREATE OR REPLACE FUNCTION energy.mark_late_readings()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tz text := energy.time_zone();
    v_hours_done timestamptz;
    v_raw_from timestamptz;
    v_limit timestamptz;
BEGIN
    SELECT max(done_until) FILTER (WHERE level = 'hour'), max(done_until) FILTER (WHERE level = 'raw')
    INTO v_hours_done, v_raw_from FROM energy.agg_progress;
    IF v_hours_done IS NULL THEN
        RETURN NULL;  -- nothing aggregated yet: the first run takes everything
    END IF;
    IF v_raw_from IS NOT NULL AND EXISTS (SELECT FROM inserted i WHERE i.ts < v_raw_from) THEN
        DELETE FROM energy.raw_reading r USING inserted i, energy.agg_hour a
        WHERE i.ts < v_raw_from AND r.metric_id = i.metric_id AND r.ts = i.ts
          AND a.metric_id = i.metric_id AND a.period_start = date_trunc('hour', i.ts, v_tz)
          AND i.ts BETWEEN a.first_ts AND a.last_ts;
    END IF;
    v_limit := greatest(v_hours_done, date_trunc('hour', now(), v_tz));
    INSERT INTO energy.stale_period (level, period_start)
    SELECT DISTINCT 'hour', date_trunc('hour', i.ts, v_tz)
    FROM inserted i
    WHERE i.ts < v_limit
      AND (i.ts >= coalesce(v_raw_from, '-infinity')
           OR EXISTS (SELECT FROM energy.raw_reading r WHERE r.metric_id = i.metric_id AND r.ts = i.ts));
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER raw_reading_mark_late
    AFTER INSERT ON energy.raw_reading
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION energy.mark_late_readings();
