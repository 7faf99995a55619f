-- Today so far per metric: the stored hours of the local day plus the hours since, computed from raw readings,
-- rolled up as a complete day would be (readings hold until now).
CREATE OR REPLACE VIEW energy.today AS
SELECT m.source, m.name AS metric, m.unit, m.kind, t.period_start, now() AS as_of,
       t.n, t.sum, t.avg, t.min, t.max, t.first, t.last, t.delta, t.estimated, t.last_ts
FROM energy.settings s
CROSS JOIN LATERAL energy.rollup('hour_live', 'day', date_trunc('day', now(), s.time_zone), 'infinity',
                                 s.time_zone, now()) t
JOIN energy.metric m ON m.id = t.metric_id;
