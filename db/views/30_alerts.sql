-- What the dashboard's banner says is wrong, one row per problem, empty when all is well: a collector whose
-- source stopped sending (energy.source_status; imported portal history is no collector), an aggregation level
-- behind the clock (energy.aggregation_status), a pg_cron job whose last run failed (energy.job_runs).
CREATE OR REPLACE VIEW energy.alerts AS
SELECT 'stale_source' AS kind, s.source AS subject, s.last_reading AS since, round(s.age_seconds) AS seconds,
       NULL::text AS detail
FROM energy.source_status s
WHERE s.stale AND s.source IN ('dsmr', 'sun2000', 'fusionsolar')
UNION ALL
SELECT 'aggregation_late', a.level, a.done_until, round(extract(epoch FROM a.behind)), NULL
FROM energy.aggregation_status a
WHERE a.late
UNION ALL
SELECT 'job_failed', j.job, j.start_time, round(extract(epoch FROM now() - j.start_time)), j.message
FROM energy.job_runs j
WHERE j.status = 'failed';
