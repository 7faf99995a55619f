-- The last run of each energy pg_cron job of this database (status, times, message), when pg_cron lives in this
-- database; where it lives in another one (cron.database_name), the view is empty and energy.aggregation_status
-- tells how far the aggregation got instead.
DO $$
BEGIN
    IF to_regclass('cron.job_run_details') IS NOT NULL THEN
        CREATE OR REPLACE VIEW energy.job_runs AS
        SELECT j.jobname::text AS job, r.status::text, r.start_time, r.end_time, r.return_message::text AS message
        FROM cron.job j
        CROSS JOIN LATERAL (
            SELECT d.status, d.start_time, d.end_time, d.return_message FROM cron.job_run_details d
            WHERE d.jobid = j.jobid ORDER BY d.start_time DESC LIMIT 1
        ) r
        WHERE j.jobname LIKE 'energy-%' AND j.database = current_database();
    ELSE
        CREATE OR REPLACE VIEW energy.job_runs AS
        SELECT NULL::text AS job, NULL::text AS status, NULL::timestamptz AS start_time,
               NULL::timestamptz AS end_time, NULL::text AS message
        WHERE false;
    END IF;
END
$$;
