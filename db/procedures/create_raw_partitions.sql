-- Creates the raw_reading partitions of the local days from yesterday to p_days_ahead days after p_now.
-- Readings that already sit in the default partition for such a day are moved into it.
CREATE OR REPLACE PROCEDURE energy.create_raw_partitions(p_now timestamptz DEFAULT now(), p_days_ahead integer DEFAULT 7)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tz text := energy.time_zone();
    v_today date := timezone(v_tz, p_now)::date;
    v_day date;
    v_name text;
    v_start timestamptz;
    v_end timestamptz;
BEGIN
    -- Two runs at once would both try to create the same tables: the second waits, then finds them.
    PERFORM pg_advisory_xact_lock(7135200001);
    FOR v_day IN SELECT d::date FROM generate_series(v_today - 1, v_today + p_days_ahead, interval '1 day') d LOOP
        v_name := 'raw_reading_' || to_char(v_day, 'YYYYMMDD');
        CONTINUE WHEN to_regclass('energy.' || v_name) IS NOT NULL;
        v_start := timezone(v_tz, v_day::timestamp);
        v_end := timezone(v_tz, (v_day + 1)::timestamp);
        -- Never below the cleanup horizon (a clock that went back): late readings there wait in the default
        -- partition for energy.aggregate_hours, and a partition would be dropped with them.
        CONTINUE WHEN v_end <= (SELECT done_until FROM energy.agg_progress WHERE level = 'raw');
        -- A writer that already routed a row to the default partition would fail once the new partition is
        -- attached: writers wait for the instant the partition takes (and they keep no lock this waits for).
        LOCK TABLE energy.raw_reading IN SHARE MODE;
        BEGIN
            EXECUTE format('CREATE TABLE energy.%I (LIKE energy.raw_reading INCLUDING ALL)', v_name);
            EXECUTE format(
                'WITH moved AS (DELETE FROM energy.raw_reading_default WHERE ts >= $1 AND ts < $2 RETURNING *)
                 INSERT INTO energy.%I SELECT * FROM moved', v_name) USING v_start, v_end;
            EXECUTE format('ALTER TABLE energy.raw_reading ATTACH PARTITION energy.%I FOR VALUES FROM (%L) TO (%L)',
                           v_name, v_start, v_end);
        EXCEPTION WHEN invalid_object_definition THEN
            -- Overlaps a partition made under another time zone setting: that one keeps the readings.
            RAISE NOTICE 'partition % skipped: %', v_name, SQLERRM;
        END;
    END LOOP;
END
$$;
