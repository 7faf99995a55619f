-- Hour aggregates including the hours not aggregated yet (the current one), computed from raw readings: the
-- source of every "so far" figure.
CREATE OR REPLACE VIEW energy.agg_hour_live AS
SELECT a.* FROM energy.agg_hour a
UNION ALL
SELECT h.*
FROM energy.agg_progress p
CROSS JOIN energy.settings s
CROSS JOIN LATERAL energy.hour_aggregates(coalesce(p.done_until, '-infinity'), now() + interval '1 minute', s.time_zone) h
WHERE p.level = 'hour';
