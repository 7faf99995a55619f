-- Freshness per source: the newest reading and its age, stale when older than the source normally allows.
CREATE OR REPLACE VIEW energy.source_status AS
SELECT l.source, max(l.ts) AS last_reading, extract(epoch FROM now() - max(l.ts)) AS age_seconds,
       now() - max(l.ts) > CASE l.source WHEN 'dsmr' THEN interval '30 seconds'
                                         WHEN 'sun2000' THEN interval '2 minutes'
                                         ELSE interval '20 minutes' END AS stale
FROM energy.latest l
GROUP BY l.source;
