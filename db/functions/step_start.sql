-- Since when the energy a reading brought (energy.counter_step, from state p_before to p_after) was made: since the
-- drop for a reset or re-base judged at that reading, else since the last good reading (the high-water mark's
-- time), so that readings below the mark in between (zeros from a lost link, a wobble) count as no readings.
CREATE OR REPLACE FUNCTION energy.step_start(p_before energy.counter_state, p_after energy.counter_state)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN p_before.low_since IS NOT NULL AND p_after.low_since IS NULL AND p_after.hwm < p_before.hwm
                THEN p_before.low_since
                ELSE p_before.hwm_ts END
$$;
