-- Marks the already aggregated hours that receive readings (replays after an outage, late devices) so that
-- the next energy.aggregate_hours redoes them.
CREATE OR REPLACE FUNCTION energy.mark_late_readings()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_done timestamptz;
    v_tz text := energy.time_zone();
BEGIN
    -- FOR SHARE waits for a running aggregate_hours (it holds the row FOR UPDATE): a reading that run could
    -- not see is then compared with the watermark it committed, and marked.
    SELECT done_until INTO v_done FROM energy.agg_progress WHERE level = 'hour' FOR SHARE;
    IF v_done IS NOT NULL THEN
        INSERT INTO energy.stale_period (level, period_start)
        SELECT DISTINCT 'hour', date_trunc('hour', i.ts, v_tz) FROM inserted i WHERE i.ts < v_done
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER raw_reading_mark_late
    AFTER INSERT ON energy.raw_reading
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION energy.mark_late_readings();
