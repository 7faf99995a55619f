-- The glitch and reset rule for counters, applied to one reading (p_value at p_ts) after the state p_state (NULL
-- before the first reading ever, which only sets the baseline). Energy is what the counter rises above the highest
-- value it has shown (its high-water mark), so:
--   * a drop that comes back (a single 0 from the inverter, a -0.001 wobble) adds nothing;
--   * a counter that stays below its mark and moves an hour or more after it last showed its first low value
--     (low_since) was reset or re-based (one stuck at that value, as an inverter answering 0 while its link is
--     down, is judged only once it moves; back at or above its mark it was never reset): if the first low value is
--     small enough to have been counted from zero since the last good reading (at most max_rise_per_hour per
--     hour), it is a new meter or a register reset and its whole count is energy; otherwise the register was
--     re-based and only what it rose since the drop is energy;
--   * a rise faster than max_rise_per_hour is no energy (a spike, or a glitching counter coming back from a reset
--     that was none); the counter simply continues from there.
-- Never negative. Deterministic, so recomputing any hour gives the same figures.
CREATE OR REPLACE FUNCTION energy.counter_step(
    p_state energy.counter_state, p_ts timestamptz, p_value double precision, p_max_rise double precision)
RETURNS energy.counter_state
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_hours double precision;
    v_next energy.counter_state;
BEGIN
    IF p_state IS NULL OR p_state.hwm IS NULL THEN
        RETURN ROW(0, p_value, p_ts, NULL, NULL, true)::energy.counter_state;
    END IF;
    IF p_value >= p_state.hwm THEN
        v_hours := extract(epoch FROM p_ts - p_state.hwm_ts) / 3600;
        v_next := ROW(p_value - p_state.hwm, p_value, p_ts, NULL, NULL, true)::energy.counter_state;
        IF p_max_rise IS NOT NULL AND v_next.inc > p_max_rise * greatest(v_hours, 1.0 / 3600) THEN
            v_next.inc := 0;  -- implausibly fast: not energy
            v_next.simple := false;
        END IF;
        RETURN v_next;
    END IF;
    IF p_state.low_since IS NULL THEN
        RETURN ROW(0, p_state.hwm, p_state.hwm_ts, p_ts, p_value, true)::energy.counter_state;
    END IF;
    IF p_value = p_state.low_first THEN  -- not moved since the drop: a new count would start from here
        RETURN ROW(0, p_state.hwm, p_state.hwm_ts, p_ts, p_state.low_first, true)::energy.counter_state;
    END IF;
    IF p_ts - p_state.low_since < interval '1 hour' THEN
        RETURN ROW(0, p_state.hwm, p_state.hwm_ts, p_state.low_since, p_state.low_first, true)::energy.counter_state;
    END IF;
    -- Low for an hour, and moving: a reset (new count from zero) or a re-based register, once the counter rose
    -- plausibly since the drop (a torn read among the zeros of a lost link is neither: it stays pending).
    v_hours := extract(epoch FROM p_ts - p_state.low_since) / 3600;
    IF p_max_rise IS NOT NULL AND p_value - p_state.low_first > p_max_rise * v_hours THEN
        RETURN ROW(0, p_state.hwm, p_state.hwm_ts, p_state.low_since, p_state.low_first, true)::energy.counter_state;
    END IF;
    v_hours := extract(epoch FROM p_state.low_since - p_state.hwm_ts) / 3600;
    IF p_max_rise IS NULL OR p_state.low_first <= p_max_rise * greatest(v_hours, 1.0 / 3600) THEN
        RETURN ROW(p_value, p_value, p_ts, NULL, NULL, false)::energy.counter_state;
    END IF;
    RETURN ROW(greatest(p_value - p_state.low_first, 0), p_value, p_ts, NULL, NULL, false)::energy.counter_state;
END
$$;
