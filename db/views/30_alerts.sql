-- What the dashboard's banner says is wrong, one row per problem, empty when all is well: a collector whose
-- source stopped sending (energy.source_status; imported portal history is no collector), an aggregation level
-- behind the clock (energy.aggregation_status; only the first of a chain of late levels), a pg_cron job whose last
-- run failed (energy.job_runs).
CREATE OR REPLACE VIEW energy.alerts AS
SELECT 'stale_source' AS kind, s.source AS subject, s.last_reading AS since, round(s.age_seconds) AS seconds,
       NULL::text AS detail
FROM energy.source_status s
WHERE s.stale AND s.source IN ('dsmr', 'sun2000', 'fusionsolar')
UNION ALL
SELECT 'aggregation_late', a.level, a.done_until, round(extract(epoch FROM a.behind)), NULL
FROM energy.aggregation_status a
JOIN energy.agg_level l ON l.level = a.level
-- a level late because the one it is built from is late says nothing new
WHERE a.late AND NOT EXISTS (SELECT FROM energy.aggregation_status s WHERE s.level = l.source_level AND s.late)
UNION ALL
SELECT 'job_failed', j.job, j.start_time, round(extract(epoch FROM now() - j.start_time)), j.message
FROM energy.job_runs j
WHERE j.status = 'failed';
