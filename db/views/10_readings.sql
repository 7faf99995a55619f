-- Raw readings with their source, metric name and unit, and the local time of the configured calendar.
CREATE OR REPLACE VIEW energy.readings AS
SELECT r.ts, timezone(s.time_zone, r.ts) AS local_time, m.source, m.name AS metric, r.value, m.unit, m.kind
FROM energy.raw_reading r
JOIN energy.metric m ON m.id = r.metric_id
CROSS JOIN energy.settings s;
