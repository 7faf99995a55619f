-- Folds late readings of the hours [p_from, p_to), whose raw data the cleanup already removed, into the stored
-- hours, then removes them from raw. A late reading inside the span of readings an hour already counted
-- (first_ts to last_ts) is a replay of one of them and changes nothing; readings before or after that span extend
-- the hour: n, sum, min, max, first, last, the time-weighted avg, and a counter's rise and state. Metrics without a
-- stored hour there are aggregated as if fresh. Then every counter step around the hours is spread again.
CREATE OR REPLACE PROCEDURE energy.merge_late_hours(p_from timestamptz, p_to timestamptz, p_tz text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_pair record;
    v_late record;
    v_state energy.counter_state;
    v_walk energy.counter_state;
    v_integral double precision;
    v_rise_before double precision;
    v_rise_after double precision;
    v_gap_in double precision;
    v_gap_to timestamptz;
    v_gap_value double precision;
    v_stepped boolean;  -- a late reading before the stored ones ends the hour's step in (NULL: none seen yet)
    v_before boolean;
    v_had_before boolean;
    v_simple boolean;
BEGIN
    DELETE FROM energy.raw_reading_default r USING energy.agg_hour a
    WHERE r.ts >= p_from AND r.ts < p_to AND a.metric_id = r.metric_id
      AND a.period_start = date_trunc('hour', r.ts, p_tz) AND r.ts BETWEEN a.first_ts AND a.last_ts;

    CREATE TEMP TABLE IF NOT EXISTS merged_pair ON COMMIT DROP AS
        SELECT 0 AS metric_id, now() AS hour WITH NO DATA;
    TRUNCATE merged_pair;
    INSERT INTO merged_pair
    SELECT DISTINCT r.metric_id, date_trunc('hour', r.ts, p_tz)
    FROM energy.raw_reading r JOIN energy.agg_hour a
      ON a.metric_id = r.metric_id AND a.period_start = date_trunc('hour', r.ts, p_tz) AND a.n > 0
    WHERE r.ts >= p_from AND r.ts < p_to;

    -- Metrics with no stored readings in these hours: aggregated from the late readings alone.
    CREATE TEMP TABLE IF NOT EXISTS fresh_hour ON COMMIT DROP AS
        SELECT * FROM energy.hour_aggregates(p_from, p_to, p_tz) WITH NO DATA;
    TRUNCATE fresh_hour;
    INSERT INTO fresh_hour
    SELECT h.* FROM energy.hour_aggregates(p_from, p_to, p_tz) h
    WHERE NOT EXISTS (SELECT FROM merged_pair p WHERE p.metric_id = h.metric_id AND p.hour = h.period_start);
    DELETE FROM energy.agg_hour a USING fresh_hour f
    WHERE a.metric_id = f.metric_id AND a.period_start = f.period_start;
    DELETE FROM energy.counter_hour c USING fresh_hour f
    WHERE c.metric_id = f.metric_id AND c.period_start = f.period_start;
    INSERT INTO energy.agg_hour (metric_id, period_start, period_end, n, sum, avg, min, max, first, last,
                                 first_ts, last_ts, delta, estimated)
    SELECT metric_id, period_start, period_end, n, sum, avg, min, max, first, last, first_ts, last_ts, delta, estimated
    FROM fresh_hour;
    INSERT INTO energy.counter_hour (metric_id, period_start, rise, gap_in, gap_from, gap_to, gap_value, hwm,
                                     hwm_ts, low_since, low_first, simple)
    SELECT metric_id, period_start, rise, gap_in, gap_from, gap_to, gap_value, hwm, hwm_ts, low_since, low_first,
           simple
    FROM fresh_hour WHERE rise IS NOT NULL;

    -- Stored hours extended by readings before or after the ones they counted, in time order.
    FOR v_pair IN
        SELECT p.metric_id, p.hour, m.kind, m.max_rise_per_hour AS max_rise, a.first_ts, a.last_ts, a.first, a.last,
               a.avg * extract(epoch FROM a.period_end - a.first_ts) AS integral, a.period_end,
               c.rise, c.gap_in, c.hwm, c.hwm_ts, c.low_since, c.low_first, c.simple
        FROM merged_pair p
        JOIN energy.metric m ON m.id = p.metric_id
        JOIN energy.agg_hour a ON a.metric_id = p.metric_id AND a.period_start = p.hour
        LEFT JOIN energy.counter_hour c ON c.metric_id = p.metric_id AND c.period_start = p.hour
        ORDER BY p.metric_id, p.hour
    LOOP
        v_integral := v_pair.integral;
        v_rise_before := 0;
        v_rise_after := 0;
        v_gap_in := v_pair.gap_in;
        v_stepped := NULL;
        v_before := true;
        v_had_before := false;
        v_simple := coalesce(v_pair.simple, true);
        -- The state before the hour's first known reading, for readings that come before it.
        v_walk := (SELECT ROW(0, c.hwm, c.hwm_ts, c.low_since, c.low_first, true)::energy.counter_state
                    FROM energy.counter_hour c
                    WHERE c.metric_id = v_pair.metric_id AND c.period_start < v_pair.hour
                    ORDER BY c.period_start DESC LIMIT 1);
        FOR v_late IN
            SELECT r.ts, r.value, lead(r.ts) OVER (ORDER BY r.ts) AS next_ts
            FROM energy.raw_reading r
            WHERE r.metric_id = v_pair.metric_id AND r.ts >= v_pair.hour AND r.ts < v_pair.period_end
            ORDER BY r.ts
        LOOP
            IF v_late.ts < v_pair.first_ts THEN
                v_had_before := true;
                v_integral := v_integral + v_late.value
                    * extract(epoch FROM least(coalesce(v_late.next_ts, v_pair.first_ts), v_pair.first_ts) - v_late.ts);
                v_walk := energy.counter_step(v_walk, v_late.ts, v_late.value, v_pair.max_rise);
                v_simple := v_simple AND v_walk.simple;
                IF v_stepped IS NULL OR (NOT v_stepped AND v_walk.low_since IS NULL) THEN
                    -- the step into the hour now ends at this reading: its first, or its first that counts
                    v_gap_in := v_walk.inc;
                    v_gap_to := v_late.ts;
                    v_gap_value := v_late.value;
                    v_stepped := v_walk.low_since IS NULL;
                ELSE
                    v_rise_before := v_rise_before + v_walk.inc;
                END IF;
            ELSE
                IF v_before THEN
                    -- the stored hour's last value held to the end: now only until this reading
                    v_integral := v_integral - v_pair.last * extract(epoch FROM v_pair.period_end - v_late.ts);
                    v_state := ROW(0, v_pair.hwm, v_pair.hwm_ts, v_pair.low_since, v_pair.low_first, true)::energy.counter_state;
                    v_before := false;
                END IF;
                v_integral := v_integral + v_late.value
                    * extract(epoch FROM coalesce(v_late.next_ts, v_pair.period_end) - v_late.ts);
                v_state := energy.counter_step(v_state, v_late.ts, v_late.value, v_pair.max_rise);
                v_simple := v_simple AND v_state.simple;
                v_rise_after := v_rise_after + v_state.inc;
            END IF;
        END LOOP;
        IF v_pair.kind = 'counter' AND v_had_before THEN
            -- The step from the new readings into the stored first one; the stored rise was measured from a
            -- state these readings may change (a glitch that looked like the start): take the larger of it and
            -- the rise from the stored first to the stored last reading under the new state.
            v_walk := energy.counter_step(v_walk, v_pair.first_ts, v_pair.first, v_pair.max_rise);
            v_rise_before := v_rise_before + v_walk.inc - v_pair.rise + greatest(v_pair.rise,
                (energy.counter_step(v_walk, v_pair.last_ts, v_pair.last, v_pair.max_rise)).inc);
        END IF;

        UPDATE energy.agg_hour a SET
            n = a.n + l.n, sum = a.sum + l.sum, min = least(a.min, l.min), max = greatest(a.max, l.max),
            first = CASE WHEN l.first_ts < a.first_ts THEN l.first ELSE a.first END,
            last = CASE WHEN l.last_ts > a.last_ts THEN l.last ELSE a.last END,
            first_ts = least(a.first_ts, l.first_ts), last_ts = greatest(a.last_ts, l.last_ts),
            avg = v_integral / extract(epoch FROM a.period_end - least(a.first_ts, l.first_ts)),
            delta = CASE WHEN v_pair.kind = 'amount' THEN a.sum + l.sum ELSE a.delta END
        FROM (SELECT count(*) AS n, sum(value) AS sum, min(value) AS min, max(value) AS max,
                     min(ts) AS first_ts, max(ts) AS last_ts,
                     (array_agg(value ORDER BY ts))[1] AS first, (array_agg(value ORDER BY ts DESC))[1] AS last
              FROM energy.raw_reading
              WHERE metric_id = v_pair.metric_id AND ts >= v_pair.hour AND ts < v_pair.period_end) l
        WHERE a.metric_id = v_pair.metric_id AND a.period_start = v_pair.hour;
        IF v_pair.kind = 'counter' THEN
            UPDATE energy.counter_hour c SET
                rise = v_rise_before + c.rise + v_rise_after, gap_in = v_gap_in, simple = v_simple,
                gap_to = CASE WHEN v_stepped THEN v_gap_to ELSE c.gap_to END,
                gap_value = CASE WHEN v_stepped THEN v_gap_value ELSE c.gap_value END,
                hwm = CASE WHEN v_before THEN c.hwm ELSE v_state.hwm END,
                hwm_ts = CASE WHEN v_before THEN c.hwm_ts ELSE v_state.hwm_ts END,
                low_since = CASE WHEN v_before THEN c.low_since ELSE v_state.low_since END,
                low_first = CASE WHEN v_before THEN c.low_first ELSE v_state.low_first END
            WHERE c.metric_id = v_pair.metric_id AND c.period_start = v_pair.hour;
        END IF;
    END LOOP;

    DELETE FROM energy.raw_reading_default WHERE ts >= p_from AND ts < p_to;
    CALL energy.spread_counter_steps(p_from, p_to, p_tz);
END
$$;
