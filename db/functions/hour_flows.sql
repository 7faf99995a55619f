-- The flows of the hours in [p_from, p_to) by energy.flow_rule, from the stored hours or (p_running) from the hours
-- not stored yet: per hour and group the source that knows the hour best, and each flow's delta from it. SECURITY
-- DEFINER (owned by energy_engine, which may only read) so that the views can show the running hours' flows.
-- "Best" is, in this order: the shortest counter step over an hour long touching the hour (a source that read
-- through an outage beats another's share of its gap; hourly gas and quarter-hour amounts are exact per hour),
-- readings of its own over a share spread across a gap, then the order of preference.
CREATE OR REPLACE FUNCTION energy.hour_flows(p_from timestamptz, p_to timestamptz, p_running boolean DEFAULT false)
RETURNS TABLE (flow text, period_start timestamptz, delta double precision, estimated boolean, source text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    -- planned for the values at hand: a plan made for any range (what a SQL function gets) reads every stored hour
    RETURN QUERY EXECUTE $query$
        WITH present AS (
            SELECT r.flow, r.grp, r.priority, r.source, a.period_start, a.delta, a.estimated, a.n,
                   greatest(a.step_in, nxt.step) AS step
            FROM energy.flow_rule r
            JOIN energy.metric m ON m.source = r.source AND m.name = r.metric
            JOIN (SELECT h.metric_id, h.period_start, h.delta, h.estimated, h.n, h.first_ts - c.gap_from AS step_in
                  FROM energy.agg_hour h
                  LEFT JOIN energy.counter_hour c ON c.metric_id = h.metric_id AND c.period_start = h.period_start
                  WHERE NOT $3
                  UNION ALL
                  SELECT h.metric_id, h.period_start, h.delta, h.estimated, h.n, h.step_in
                  FROM energy.agg_hour_running h
                  WHERE $3
            ) a ON a.metric_id = m.id
            -- the step out of the hour: into the first reading of the next stored hour with readings
            LEFT JOIN LATERAL (
                SELECT na.first_ts - c.gap_from AS step
                FROM energy.counter_hour c
                JOIN energy.agg_hour na ON na.metric_id = c.metric_id AND na.period_start = c.period_start
                WHERE NOT $3 AND m.kind = 'counter' AND c.metric_id = m.id AND c.period_start > a.period_start
                  AND c.gap_from < a.period_start + interval '1 hour'
                ORDER BY c.period_start LIMIT 1
            ) nxt ON true
            WHERE a.period_start >= $1 AND a.period_start < $2 AND a.delta IS NOT NULL
        ),
        winner AS (
            SELECT DISTINCT ON (grp, period_start) grp, period_start, source
            FROM present
            ORDER BY grp, period_start, greatest(coalesce(step, interval '0'), interval '1 hour'), n = 0, priority
        )
        SELECT r.flow, w.period_start, coalesce(p.delta, 0), coalesce(p.estimated, false), w.source
        FROM winner w
        JOIN (SELECT DISTINCT flow, grp, source FROM energy.flow_rule) r ON r.grp = w.grp AND r.source = w.source
        LEFT JOIN present p ON p.flow = r.flow AND p.source = w.source AND p.period_start = w.period_start
    $query$ USING p_from, p_to, p_running;
END
$fn$;
