-- Gives every hour its exact share of the counter steps around [p_from, p_to) and refreshes what depends on it.
-- A step into a reading is split over the hours it spans in proportion to time, so a reading exactly on a boundary
-- closes the earlier hour, and an hour without readings of its own gets a row with n = 0. A share of a step longer
-- than five minutes is an estimate (hourly gas, an outage), and the hour says so.
-- The steps into the hours after p_from are re-derived first (p_walked: the hours in range were just walked from
-- their readings, from the same state, and are right as stored), up to the first stored hour after p_to that was
-- derived from the state before it as it is now. A step into a reading of an hour not stored yet gives the stored
-- hours their share already (the running hour takes the rest), so "so far" figures add up.
CREATE OR REPLACE PROCEDURE energy.spread_counter_steps(
    p_from timestamptz, p_to timestamptz, p_tz text, p_walked boolean DEFAULT false)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_counter record;
    v_span_from timestamptz;
    v_span_to timestamptz;
    v_changed_from timestamptz := p_from;  -- the hours any counter's shares changed in, for one pass of the flows
    v_changed_to timestamptz := p_to;
    v_in energy.counter_state;
    v_new energy.counter_state;
    v_gap double precision;
    v_gap_from timestamptz;
    v_hour record;
    v_last timestamptz;
    v_knot energy.counter_state;
    v_before energy.counter_state;
    v_rise double precision;
BEGIN
    FOR v_counter IN
        SELECT m.id, m.max_rise_per_hour,
               (SELECT c.period_start FROM energy.counter_hour c
                WHERE c.metric_id = m.id AND c.period_start >= p_to ORDER BY c.period_start LIMIT 1) AS next_hour
        FROM energy.metric m WHERE m.kind = 'counter'
    LOOP
        -- Each hour's step in and rise, re-derived in time order from the state before it: late readings may
        -- have changed that state, also for stored hours after p_to whose raw data is gone. A simple hour (no
        -- reset, re-base or implausible rise) counts the rise of the counter's high-water mark, which the reading
        -- its step in ends at, its max and its last reading give for any state before it; for the others only the
        -- step in is re-derived.
        v_in := (SELECT ROW(0, p.hwm, p.hwm_ts, p.low_since, p.low_first, true)::energy.counter_state
                 FROM energy.counter_hour p
                 WHERE p.metric_id = v_counter.id AND p.period_start < p_from
                 ORDER BY p.period_start DESC LIMIT 1);
        v_last := p_to - interval '1 hour';
        FOR v_hour IN
            SELECT c.*, a.first, a.first_ts, a.max, a.last, a.last_ts
            FROM energy.counter_hour c
            JOIN energy.agg_hour a ON a.metric_id = c.metric_id AND a.period_start = c.period_start
            WHERE c.metric_id = v_counter.id AND c.period_start >= p_from
            ORDER BY c.period_start
        LOOP
            -- past p_to, an hour whose step in starts where the state before it says was derived from that state
            EXIT WHEN v_hour.period_start >= p_to AND (v_hour.gap_from IS NOT DISTINCT FROM v_in.hwm_ts
                                                       OR (NOT v_hour.simple AND v_hour.gap_from = v_in.low_since));
            v_new := ROW(v_hour.rise, v_hour.hwm, v_hour.hwm_ts, v_hour.low_since, v_hour.low_first,
                         v_hour.simple)::energy.counter_state;
            IF NOT (p_walked AND v_hour.period_start < p_to) THEN
                IF v_hour.simple THEN
                    v_gap := CASE WHEN v_in.hwm IS NULL THEN 0 ELSE greatest(v_hour.gap_value - v_in.hwm, 0) END;
                    v_gap_from := v_in.hwm_ts;
                    v_new.inc := greatest(v_hour.max - greatest(coalesce(v_in.hwm, v_hour.gap_value), v_hour.gap_value),
                                          0);
                    v_new.hwm := greatest(coalesce(v_in.hwm, v_hour.max), v_hour.max);
                    IF v_in.hwm IS NOT NULL AND v_hour.max <= v_in.hwm THEN
                        v_new.hwm_ts := v_in.hwm_ts;
                    ELSIF v_hour.hwm_ts < v_hour.period_start THEN
                        v_new.hwm_ts := v_hour.last_ts;  -- the mark is now reached in this hour (its last, or close)
                    END IF;
                    IF v_hour.last >= v_new.hwm THEN
                        v_new.low_since := NULL;
                        v_new.low_first := NULL;
                    ELSIF v_new.low_since IS NULL THEN
                        v_new.low_since := v_hour.last_ts;
                        v_new.low_first := v_hour.last;
                    END IF;
                ELSE
                    -- A reset or an implausible rise was judged from the state stored before it: walk the hour's
                    -- first reading, the one its step in ends at, its highest and its last from the state it has
                    -- now, and keep the larger rise (a reset's count of the new meter is not in the knots; a rise
                    -- judged implausible against a glitch is).
                    v_knot := v_in;
                    IF v_hour.first_ts < v_hour.gap_to THEN
                        v_knot := energy.counter_step(v_knot, v_hour.first_ts, v_hour.first,
                                                      v_counter.max_rise_per_hour);
                    END IF;
                    v_before := v_knot;
                    v_knot := energy.counter_step(v_knot, v_hour.gap_to, v_hour.gap_value, v_counter.max_rise_per_hour);
                    v_gap := coalesce(v_knot.inc, 0);
                    v_gap_from := energy.step_start(v_before, v_knot);
                    v_knot := energy.counter_step(v_knot, v_hour.last_ts, v_hour.max, v_counter.max_rise_per_hour);
                    v_rise := v_knot.inc;
                    v_knot := energy.counter_step(v_knot, v_hour.last_ts, v_hour.last, v_counter.max_rise_per_hour);
                    v_new.inc := greatest(v_hour.rise, v_rise + v_knot.inc);
                    v_new.hwm := greatest(v_hour.hwm, v_knot.hwm);
                END IF;
                UPDATE energy.counter_hour c
                SET gap_in = v_gap, gap_from = v_gap_from, rise = v_new.inc,
                    hwm = v_new.hwm, hwm_ts = v_new.hwm_ts, low_since = v_new.low_since, low_first = v_new.low_first
                WHERE c.metric_id = v_counter.id AND c.period_start = v_hour.period_start;
            END IF;
            v_last := greatest(v_last, v_hour.period_start);
            v_in := ROW(0, v_new.hwm, v_new.hwm_ts, v_new.low_since, v_new.low_first, true)::energy.counter_state;
        END LOOP;
        -- the next stored hour after those, whose step in now starts from the last of them
        v_counter.next_hour := (SELECT min(c.period_start) FROM energy.counter_hour c
                                WHERE c.metric_id = v_counter.id AND c.period_start > v_last);

        -- The hours whose delta can change: from where the first step touching [p_from, p_to) starts to the hour
        -- where the step after it ends.
        SELECT least(p_from, min(date_trunc('hour', c.gap_from, p_tz))),
               greatest(p_to, max(c.period_start) + interval '1 hour')
        INTO v_span_from, v_span_to
        FROM energy.counter_hour c
        WHERE c.metric_id = v_counter.id
          AND c.period_start >= p_from AND c.period_start <= coalesce(v_counter.next_hour, v_last + interval '1 hour');
        -- Hours in range that lost their readings keep no row of their own unless a step spans them.
        DELETE FROM energy.agg_hour a
        WHERE a.metric_id = v_counter.id AND a.n = 0 AND a.period_start >= v_span_from AND a.period_start < v_span_to;

        WITH steps AS (
            SELECT c.gap_in, c.gap_from, c.gap_to
            FROM energy.counter_hour c
            WHERE c.metric_id = v_counter.id AND c.gap_from IS NOT NULL
              AND c.gap_to > v_span_from AND c.gap_from < v_span_to
              -- a step ends in its owner's hour, and steps start in time order: the owners after the span that
              -- start in it come before the first that does not
              AND c.period_start > v_span_from - interval '1 hour'
              AND c.period_start <= coalesce((SELECT min(n.period_start) FROM energy.counter_hour n
                                              WHERE n.metric_id = v_counter.id AND n.period_start >= v_span_to
                                                AND (n.gap_from >= v_span_to OR n.gap_from IS NULL)),
                                             'infinity')
            UNION ALL
            -- the step from the last stored hour into a reading of an hour not stored yet (the running one)
            SELECT (k.after).inc, energy.step_start(k.before, k.after), r.ts
            FROM (SELECT * FROM energy.counter_hour WHERE metric_id = v_counter.id
                  ORDER BY period_start DESC LIMIT 1) c
            CROSS JOIN LATERAL (SELECT r.ts, r.value FROM energy.raw_reading r
                                WHERE r.metric_id = c.metric_id AND r.ts >= c.period_start + interval '1 hour'
                                ORDER BY r.ts LIMIT 1) r
            CROSS JOIN LATERAL (SELECT ROW(0, c.hwm, c.hwm_ts, c.low_since, c.low_first, true)::energy.counter_state
                                       AS before) b
            CROSS JOIN LATERAL (SELECT b.before, energy.counter_step(b.before, r.ts, r.value,
                                                                     v_counter.max_rise_per_hour) AS after) k
            WHERE v_counter.next_hour IS NULL
        ),
        shares AS (
            SELECT h.start,
                   s.gap_in * extract(epoch FROM least(h.start + interval '1 hour', s.gap_to) - greatest(h.start, s.gap_from))
                       / extract(epoch FROM s.gap_to - s.gap_from) AS share,
                   s.gap_to - s.gap_from > interval '5 minutes' AS estimated
            FROM steps s
            CROSS JOIN LATERAL generate_series(date_trunc('hour', s.gap_from, p_tz), s.gap_to, interval '1 hour') h (start)
            WHERE h.start < s.gap_to AND h.start >= v_span_from AND h.start < v_span_to
        ),
        per_hour AS (
            SELECT start, sum(share) AS share, bool_or(estimated) AS estimated FROM shares GROUP BY start
        ),
        updated AS (
            UPDATE energy.agg_hour a
            SET delta = coalesce(c.rise, 0) + coalesce(p.share, 0), estimated = coalesce(p.estimated, false)
            FROM energy.counter_hour c
            LEFT JOIN per_hour p ON p.start = c.period_start
            WHERE a.metric_id = v_counter.id AND c.metric_id = a.metric_id AND c.period_start = a.period_start
              AND a.period_start >= v_span_from AND a.period_start < v_span_to
            RETURNING a.period_start
        )
        INSERT INTO energy.agg_hour (metric_id, period_start, period_end, n, delta, estimated)
        SELECT v_counter.id, p.start, p.start + interval '1 hour', 0, p.share, true
        FROM per_hour p
        WHERE NOT EXISTS (SELECT FROM energy.counter_hour c WHERE c.metric_id = v_counter.id AND c.period_start = p.start);

        v_changed_from := least(v_changed_from, v_span_from);
        v_changed_to := greatest(v_changed_to, v_span_to);
    END LOOP;
    CALL energy.derive_flows(v_changed_from, v_changed_to);
    CALL energy.mark_parents_stale('hour', v_changed_from, v_changed_to, p_tz);
END
$$;
