-- Derives the flows (source 'flow': produced, imported_t1/t2, exported_t1/t2, gas) of the hours in [p_from, p_to)
-- from the stored hours: per hour and group of flows, the first source in energy.flow_rule with data wins, so no
-- energy is ever counted from two sources, and days, weeks and months are sums of these hours.
-- A counter step over an hour long whose hours are won partly by another source (a live meter's outage that the
-- portal fills for one of its days, two solar sources with overlapping gaps) gives the hours it wins what is left
-- of its increase once the other source's figures for the rest of its time are taken out, in proportion to time,
-- rather than its even spread: what the meter counted is kept, and nothing is counted twice. Shorter steps first,
-- so that a longer one sees what a shorter one left. The hours of such a step depend on each other, so the range
-- grows to cover every one that touches it (the range derived is returned).
CREATE OR REPLACE PROCEDURE energy.derive_flows(INOUT p_from timestamptz, INOUT p_to timestamptz)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tz text := energy.time_zone();
    v_step record;
    v_from timestamptz;
    v_to timestamptz;
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS long_step ON COMMIT DROP AS
        SELECT r.flow, f.id AS flow_id, r.source, r.priority, c.gap_in, c.gap_from, c.gap_to
        FROM energy.flow_rule r, energy.metric f, energy.counter_hour c WITH NO DATA;
    LOOP
        TRUNCATE long_step;
        INSERT INTO long_step
        SELECT r.flow, f.id, r.source, r.priority, c.gap_in, c.gap_from, c.gap_to
        FROM energy.flow_rule r
        JOIN energy.metric m ON m.source = r.source AND m.name = r.metric AND m.kind = 'counter'
        JOIN energy.metric f ON f.source = 'flow' AND f.name = r.flow
        JOIN energy.counter_hour c ON c.metric_id = m.id
        WHERE c.gap_to - c.gap_from > interval '1 hour' AND c.gap_in > 0
          AND c.gap_to > p_from AND c.gap_from < p_to AND c.period_start >= p_from
          -- steps start in time order: the owners after the range that start in it come before the first that
          -- does not
          AND c.period_start <= coalesce((SELECT min(n.period_start) FROM energy.counter_hour n
                                          WHERE n.metric_id = m.id AND n.period_start >= p_to
                                            AND (n.gap_from >= p_to OR n.gap_from IS NULL)), 'infinity');
        SELECT least(p_from, min(date_trunc('hour', gap_from, v_tz))),
               greatest(p_to, max(date_trunc('hour', gap_to - interval '1 microsecond', v_tz) + interval '1 hour'))
        INTO v_from, v_to
        FROM long_step;
        EXIT WHEN v_from = p_from AND v_to = p_to;
        p_from := v_from;
        p_to := v_to;
    END LOOP;

    DELETE FROM energy.agg_hour a USING energy.metric m
    WHERE m.id = a.metric_id AND m.source = 'flow' AND a.period_start >= p_from AND a.period_start < p_to;
    INSERT INTO energy.agg_hour (metric_id, period_start, period_end, n, sum, avg, min, max, first, last,
                                 first_ts, last_ts, delta, estimated)
    SELECT f.id, c.period_start, c.period_start + interval '1 hour', 1, c.delta, c.delta, c.delta, c.delta, c.delta,
           c.delta, c.period_start, c.period_start, c.delta, c.estimated
    FROM energy.hour_flows(p_from, p_to) c
    JOIN energy.metric f ON f.source = 'flow' AND f.name = c.flow;

    FOR v_step IN SELECT * FROM long_step ORDER BY gap_to - gap_from
    LOOP
        WITH hours AS (
            SELECT w.period_start AS start, w.source = v_step.source AND w.priority = v_step.priority AS own,
                   a.delta, extract(epoch FROM least(w.period_start + interval '1 hour', v_step.gap_to)
                                               - greatest(w.period_start, v_step.gap_from)) AS seconds
            FROM energy.hour_flows(date_trunc('hour', v_step.gap_from, v_tz), v_step.gap_to) w
            JOIN energy.agg_hour a ON a.metric_id = v_step.flow_id AND a.period_start = w.period_start
            WHERE w.flow = v_step.flow
        ),
        residual AS (
            SELECT greatest(v_step.gap_in - coalesce(sum(delta * seconds / 3600) FILTER (WHERE NOT own), 0), 0)
                       AS left_over,
                   sum(seconds) FILTER (WHERE own) AS own_seconds, sum(seconds) AS seconds
            FROM hours
            HAVING bool_or(own) AND bool_or(NOT own)
        )
        UPDATE energy.agg_hour a
        SET delta = a.delta - v_step.gap_in * h.seconds / r.seconds + r.left_over * h.seconds / r.own_seconds
        FROM hours h CROSS JOIN residual r
        WHERE h.own AND a.metric_id = v_step.flow_id AND a.period_start = h.start
          AND h.start >= p_from AND h.start < p_to;
    END LOOP;
END
$$;
