-- Every stored aggregate of every level with metric names, units and local period starts; the per-level views
-- below select from it.
CREATE OR REPLACE VIEW energy.aggregates AS
WITH levels AS (
    SELECT 'hour' AS level, a.* FROM energy.agg_hour a
    UNION ALL SELECT 'day', a.* FROM energy.agg_day a
    UNION ALL SELECT 'week', a.* FROM energy.agg_week a
    UNION ALL SELECT 'month', a.* FROM energy.agg_month a
)
SELECT l.level, m.source, m.name AS metric, m.unit, m.kind,
       l.period_start, l.period_end, timezone(s.time_zone, l.period_start) AS local_start,
       l.n, l.sum, l.avg, l.min, l.max, l.first, l.last, l.delta, l.first_ts, l.last_ts
FROM levels l
JOIN energy.metric m ON m.id = l.metric_id
CROSS JOIN energy.settings s;
