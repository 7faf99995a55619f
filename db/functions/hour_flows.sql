-- The flows of the hours in [p_from, p_to) by energy.flow_rule, from the stored hours or (p_running) from the hours
-- not stored yet: per hour and group the first source with data, and each flow's delta from it. SECURITY DEFINER
-- (owned by energy_engine, which may only read) so that the views can show the running hours' flows.
CREATE OR REPLACE FUNCTION energy.hour_flows(p_from timestamptz, p_to timestamptz, p_running boolean DEFAULT false)
RETURNS TABLE (flow text, period_start timestamptz, delta double precision, estimated boolean, source text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH present AS (
        SELECT r.flow, r.grp, r.priority, r.source, a.period_start, a.delta, a.estimated, a.n
        FROM energy.flow_rule r
        JOIN energy.metric m ON m.source = r.source AND m.name = r.metric
        JOIN (SELECT h.metric_id, h.period_start, h.delta, h.estimated, h.n FROM energy.agg_hour h WHERE NOT p_running
              UNION ALL
              SELECT h.metric_id, h.period_start, h.delta, h.estimated, h.n FROM energy.agg_hour_running h
              WHERE p_running
        ) a ON a.metric_id = m.id
        WHERE a.period_start >= p_from AND a.period_start < p_to AND a.delta IS NOT NULL
    ),
    winner AS (
        -- readings of its own win over a share spread across a gap, then the order of preference
        SELECT DISTINCT ON (grp, period_start) grp, period_start, source
        FROM present ORDER BY grp, period_start, n = 0, priority
    )
    SELECT r.flow, w.period_start, coalesce(p.delta, 0), coalesce(p.estimated, false), w.source
    FROM winner w
    JOIN (SELECT DISTINCT flow, grp, source FROM energy.flow_rule) r ON r.grp = w.grp AND r.source = w.source
    LEFT JOIN present p ON p.flow = r.flow AND p.source = w.source AND p.period_start = w.period_start
$$;
