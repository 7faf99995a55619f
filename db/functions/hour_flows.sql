-- The flows of the hours in [p_from, p_to) by energy.flow_rule: per hour and group the source that knows the hour
-- best, and each flow's delta from it. From the stored hours, or (p_running) as of now: the hours not stored yet,
-- and for a stored hour that a counter step into a reading not stored yet reaches back into, what its flows are now
-- less what is stored of them. SECURITY DEFINER (owned by energy_engine, which may only read) so that the views can
-- show the running hours' flows.
-- "Best" is, in this order: the shortest counter step over an hour long touching the hour (a source that read
-- through an outage beats another's share of its gap; hourly gas and quarter-hour amounts are exact per hour),
-- readings of its own over a share spread across a gap, then the order of preference.
CREATE OR REPLACE FUNCTION energy.hour_flows(p_from timestamptz, p_to timestamptz, p_running boolean DEFAULT false)
RETURNS TABLE (
    flow text, period_start timestamptz, delta double precision, estimated boolean, source text, priority integer
)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_nestloop = on  -- so that the change below ends with the call
SET plan_cache_mode = force_custom_plan  -- planned for the range at hand: one plan for any range reads every hour
AS $fn$
#variable_conflict use_column
BEGIN
    IF NOT p_running THEN
        IF p_to - p_from > interval '2 days' THEN
            -- hash joins: hours just stored have no statistics yet, and nested loops over a year of them take minutes
            PERFORM set_config('enable_nestloop', 'off', true);
        END IF;
    END IF;
    RETURN QUERY
        WITH sources AS (
            SELECT r.flow, r.grp, r.priority, r.source, m.id AS metric_id, m.kind
            FROM energy.flow_rule r
            JOIN energy.metric m ON m.source = r.source AND m.name = r.metric
        ),
        running AS (
            SELECT h.metric_id, h.period_start, h.delta, h.estimated, h.n, h.step_in AS step
            FROM energy.agg_hour_running h
            WHERE p_running AND h.period_start >= p_from AND h.period_start < p_to
              AND h.metric_id IN (SELECT s.metric_id FROM sources s)
        ),
        -- the counter steps [gap_from, gap_to) that reach into the hours asked for (when running, into the stored
        -- hours the running rows add to): a step ends in its owner's hour, and steps start in time order, so the
        -- owners after the range that start in it come before the first that does not
        span AS (
            SELECT CASE WHEN p_running THEN (SELECT min(r.period_start) FROM running r) ELSE p_from END AS lo
        ),
        counters AS (
            SELECT c.metric_id, coalesce((SELECT min(n.period_start) FROM energy.counter_hour n
                                          WHERE n.metric_id = c.metric_id AND n.period_start >= p_to
                                            AND (n.gap_from >= p_to OR n.gap_from IS NULL)), 'infinity') AS hi
            FROM (SELECT DISTINCT metric_id FROM sources WHERE kind = 'counter') c
        ),
        steps AS (
            SELECT c.metric_id, h.start AS period_start, max(c.gap_to - c.gap_from) AS step
            FROM span
            CROSS JOIN counters k
            JOIN energy.counter_hour c ON c.metric_id = k.metric_id
            CROSS JOIN LATERAL generate_series(date_trunc('hour', c.gap_from, energy.time_zone()), c.gap_to,
                                               interval '1 hour') h (start)
            WHERE c.gap_from IS NOT NULL AND c.period_start > span.lo - interval '1 hour' AND c.period_start <= k.hi
              AND h.start < c.gap_to AND h.start >= span.lo AND h.start < p_to
            GROUP BY 1, 2
        ),
        stored AS (
            SELECT h.metric_id, h.period_start, h.delta, h.estimated, h.n, st.step
            FROM (SELECT DISTINCT metric_id FROM sources) s
            JOIN energy.agg_hour h ON h.metric_id = s.metric_id
            LEFT JOIN steps st ON st.metric_id = h.metric_id AND st.period_start = h.period_start
            WHERE h.period_start >= p_from AND h.period_start < p_to
              AND (NOT p_running OR h.period_start IN (SELECT r.period_start FROM running r))
        ),
        present AS (
            SELECT s.flow, s.grp, s.priority, s.source, a.period_start, a.delta, a.estimated, a.n, a.step
            FROM (SELECT metric_id, period_start, sum(delta) AS delta, bool_or(estimated) AS estimated, max(n) AS n,
                         max(step) AS step
                  FROM (SELECT * FROM stored UNION ALL SELECT * FROM running) u
                  GROUP BY metric_id, period_start) a
            JOIN sources s ON s.metric_id = a.metric_id
            WHERE a.delta IS NOT NULL
        ),
        winner AS (
            SELECT DISTINCT ON (grp, period_start) grp, period_start, source, priority
            FROM present
            ORDER BY grp, period_start, greatest(coalesce(step, interval '0'), interval '1 hour'), n = 0, priority
        ),
        chosen AS (
            SELECT r.flow, w.period_start, coalesce(p.delta, 0) AS delta, coalesce(p.estimated, false) AS estimated,
                   w.source, w.priority
            FROM winner w
            JOIN (SELECT DISTINCT flow, grp, source, priority FROM energy.flow_rule) r
                ON r.grp = w.grp AND r.source = w.source AND r.priority = w.priority
            LEFT JOIN present p
                ON p.flow = r.flow AND p.source = w.source AND p.priority = w.priority
               AND p.period_start = w.period_start
        )
        SELECT c.flow, c.period_start, c.delta - coalesce(f.delta, 0), c.estimated, c.source, c.priority
        FROM chosen c
        LEFT JOIN (SELECT m.name, h.period_start, h.delta
                   FROM energy.agg_hour h JOIN energy.metric m ON m.id = h.metric_id AND m.source = 'flow'
                   WHERE p_running AND h.period_start >= p_from AND h.period_start < p_to) f
            ON f.name = c.flow AND f.period_start = c.period_start
        WHERE f.delta IS NULL OR c.delta <> f.delta;
END
$fn$;
