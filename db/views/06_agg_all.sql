-- Every aggregate row of every level by metric id, and the running hours as level 'running': what energy.rollup
-- reads, so that days, weeks, months and "so far" figures come from one computation.
CREATE OR REPLACE VIEW energy.agg_all AS
SELECT 'hour'::text AS level, a.metric_id, a.period_start, a.period_end, a.n, a.sum, a.avg, a.min, a.max, a.first,
       a.last, a.first_ts, a.last_ts, a.delta, a.estimated
FROM energy.agg_hour a
UNION ALL
SELECT 'day', a.metric_id, a.period_start, a.period_end, a.n, a.sum, a.avg, a.min, a.max, a.first, a.last,
       a.first_ts, a.last_ts, a.delta, a.estimated
FROM energy.agg_day a
UNION ALL
SELECT 'week', a.metric_id, a.period_start, a.period_end, a.n, a.sum, a.avg, a.min, a.max, a.first, a.last,
       a.first_ts, a.last_ts, a.delta, a.estimated
FROM energy.agg_week a
UNION ALL
SELECT 'month', a.metric_id, a.period_start, a.period_end, a.n, a.sum, a.avg, a.min, a.max, a.first, a.last,
       a.first_ts, a.last_ts, a.delta, a.estimated
FROM energy.agg_month a
UNION ALL
SELECT 'running', r.metric_id, r.period_start, r.period_end, r.n, r.sum, r.avg, r.min, r.max, r.first, r.last,
       r.first_ts, r.last_ts, r.delta, r.estimated
FROM energy.agg_hour_running r
UNION ALL
SELECT 'running', f.id, c.period_start, c.period_start + interval '1 hour', 1, c.delta, c.delta, c.delta, c.delta,
       c.delta, c.delta, c.period_start, c.period_start, c.delta, c.estimated
FROM energy.hour_flows('-infinity', 'infinity', true) c
JOIN energy.metric f ON f.source = 'flow' AND f.name = c.flow;
