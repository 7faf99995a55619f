-- Every stored aggregate of every level with metric names, units and local period starts; the per-level views
-- below select from it. estimated: a counter's delta holds a share of a step that spans several periods (n = 0:
-- the period had no reading of its own, the share fills it in).
CREATE OR REPLACE VIEW energy.aggregates AS
SELECT l.level, m.source, m.name AS metric, m.unit, m.kind,
       l.period_start, l.period_end, timezone(s.time_zone, l.period_start) AS local_start,
       l.n, l.sum, l.avg, l.min, l.max, l.first, l.last, l.delta, l.estimated, l.first_ts, l.last_ts
FROM energy.agg_all l
JOIN energy.metric m ON m.id = l.metric_id
CROSS JOIN energy.settings s
WHERE l.level IN ('hour', 'day', 'week', 'month');
