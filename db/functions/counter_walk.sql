-- Walks every counter's raw readings in [p_from, p_to) in time order through energy.counter_step, starting from
-- the state stored after the counter's last hour before p_from. Per local hour with readings: the step into it
-- (gap_in, made from gap_from to gap_to: the step into its first reading that is not below the counter's mark, or
-- into its first reading if all are), the rise after that step within the hour, the state after its last reading,
-- and whether every step in it was simple.
CREATE OR REPLACE FUNCTION energy.counter_walk(p_from timestamptz, p_to timestamptz, p_tz text)
RETURNS TABLE (
    metric_id integer, period_start timestamptz, rise double precision, gap_in double precision,
    gap_from timestamptz, gap_to timestamptz, gap_value double precision, hwm double precision, hwm_ts timestamptz, low_since timestamptz,
    low_first double precision, simple boolean
)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_reading record;
    v_before energy.counter_state;
    v_state energy.counter_state;
    v_metric integer;
    v_hour timestamptz;
    v_reading_hour timestamptz;
    v_stepped boolean;  -- the hour's step in is known: a reading of it was not below the mark (NULL: none yet)
BEGIN
    FOR v_reading IN
        SELECT r.metric_id, r.ts, r.value, m.max_rise_per_hour AS max_rise
        FROM energy.raw_reading r JOIN energy.metric m ON m.id = r.metric_id
        WHERE m.kind = 'counter' AND r.ts >= p_from AND r.ts < p_to
        ORDER BY r.metric_id, r.ts
    LOOP
        IF v_reading.metric_id IS DISTINCT FROM v_metric THEN
            IF v_hour IS NOT NULL THEN
                RETURN NEXT;
            END IF;
            v_metric := v_reading.metric_id;
            v_hour := NULL;
            v_state := (SELECT ROW(0, c.hwm, c.hwm_ts, c.low_since, c.low_first, true)::energy.counter_state
                        FROM energy.counter_hour c
                        WHERE c.metric_id = v_metric AND c.period_start < p_from
                        ORDER BY c.period_start DESC LIMIT 1);
        END IF;
        v_before := v_state;
        v_state := energy.counter_step(v_before, v_reading.ts, v_reading.value, v_reading.max_rise);
        v_reading_hour := date_trunc('hour', v_reading.ts, p_tz);
        IF v_reading_hour IS DISTINCT FROM v_hour THEN
            IF v_hour IS NOT NULL THEN
                RETURN NEXT;
            END IF;
            v_hour := v_reading_hour;
            metric_id := v_metric;
            period_start := v_hour;
            rise := 0;
            simple := true;
            v_stepped := NULL;  -- its first reading
        END IF;
        IF v_stepped IS NULL OR (NOT v_stepped AND v_state.low_since IS NULL) THEN
            gap_in := v_state.inc;
            gap_from := energy.step_start(v_before, v_state);
            gap_to := v_reading.ts;
            gap_value := v_reading.value;
            v_stepped := v_state.low_since IS NULL;
        ELSE
            rise := rise + v_state.inc;
        END IF;
        simple := simple AND v_state.simple;
        hwm := v_state.hwm;
        hwm_ts := v_state.hwm_ts;
        low_since := v_state.low_since;
        low_first := v_state.low_first;
    END LOOP;
    IF v_hour IS NOT NULL THEN
        RETURN NEXT;
    END IF;
END
$$;
