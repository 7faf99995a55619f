-- The hours not aggregated yet (the running one, and any the jobs have not reached), computed from raw readings as
-- of now: the source of every "so far" figure. step_in: how long the counter step into the hour's first reading was.
CREATE OR REPLACE VIEW energy.agg_hour_running AS
SELECT h.metric_id, h.period_start, h.period_end, h.n, h.sum, h.avg, h.min, h.max, h.first, h.last,
       h.first_ts, h.last_ts, h.delta, h.estimated,
       h.first_ts - h.gap_from AS step_in
FROM energy.agg_progress p
CROSS JOIN energy.settings s
CROSS JOIN LATERAL energy.hour_aggregates(coalesce(p.done_until, '-infinity'), now(), s.time_zone) h
WHERE p.level = 'hour';
