-- The newest reading of every metric and its age. Readings dated in the future (a device with a wrong clock)
-- are left out so that they cannot hide the live value.
CREATE OR REPLACE VIEW energy.latest AS
SELECT m.source, m.name AS metric, l.value, m.unit, m.kind, l.ts, now() - l.ts AS age
FROM energy.metric m
CROSS JOIN LATERAL (
    SELECT r.ts, r.value FROM energy.raw_reading r
    WHERE r.metric_id = m.id AND r.ts <= now() + interval '1 minute'
    ORDER BY r.ts DESC LIMIT 1
) l;
