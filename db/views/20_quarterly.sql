-- Quarter hours of the quarterly metrics (powers, and the meter's running quarter-hour demand 1-0:1.4.0): the
-- stored ones, and those of the hours not aggregated yet computed from raw readings as of now, so that today's
-- profile reaches the running quarter. Labelled with the UTC offset like energy.hourly; complete: the quarter has
-- ended (the running one's average holds its readings until now).
CREATE OR REPLACE VIEW energy.quarterly AS
WITH quarters AS (
    SELECT a.metric_id, a.period_start, a.period_end, a.n, a.sum, a.avg, a.min, a.max, a.first, a.last
    FROM energy.agg_quarter a
    UNION ALL
    SELECT r.metric_id, r.period_start, r.period_end, r.n, r.sum, r.avg, r.min, r.max, r.first, r.last
    FROM energy.agg_progress p
    CROSS JOIN LATERAL energy.quarter_aggregates(coalesce(p.done_until, '-infinity'), now()) r
    WHERE p.level = 'hour'
)
SELECT to_char(timezone(s.time_zone, q.period_start), 'YYYY-MM-DD HH24:MI')
           || to_char(extract(epoch FROM timezone(s.time_zone, q.period_start) - timezone('UTC', q.period_start))
                      / 3600, 'S00') AS quarter,
       timezone(s.time_zone, q.period_start)::date AS day, m.source, m.name AS metric, m.unit,
       q.period_start, q.period_end, timezone(s.time_zone, q.period_start) AS local_start,
       q.n, q.sum, q.avg, q.min, q.max, q.first, q.last, q.period_end <= now() AS complete
FROM quarters q
JOIN energy.metric m ON m.id = q.metric_id
CROSS JOIN energy.settings s;
