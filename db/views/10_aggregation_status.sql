-- How far each aggregation level has got, and how far behind the clock it is; more than two hours behind for
-- hours (or two days for days) means the pg_cron jobs are not running or failing; never aggregated is not late.
CREATE OR REPLACE VIEW energy.aggregation_status AS
SELECT p.level, p.done_until, timezone(s.time_zone, p.done_until) AS done_until_local,
       now() - p.done_until AS behind,
       coalesce(now() - p.done_until > CASE p.level WHEN 'hour' THEN interval '2 hours'
                                                    WHEN 'day' THEN interval '2 days'
                                                    WHEN 'week' THEN interval '8 days'
                                                    ELSE interval '32 days' END, false) AS late
FROM energy.agg_progress p CROSS JOIN energy.settings s
WHERE p.level <> 'raw';
