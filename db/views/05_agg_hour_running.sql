-- The hours not aggregated yet (the running one, and any the jobs have not reached), computed from raw readings as
-- of now: the source of every "so far" figure. step_in: how long the counter step into the hour, or the one
-- spanning the hour, was.
-- A counter step into an hour not stored yet may reach back over earlier hours, stored ones included (a reading
-- after an outage, or after zeros from a lost link): rows with n = 0 add their share of it, less what the hourly
-- job already stored of it (none when the reading arrived later, from a collector back from an outage).
CREATE OR REPLACE VIEW energy.agg_hour_running AS
WITH progress AS (
    SELECT coalesce(p.done_until, '-infinity') AS done_until, s.time_zone
    FROM energy.agg_progress p CROSS JOIN energy.settings s
    WHERE p.level = 'hour'
),
running AS (
    SELECT h.*, p.time_zone, p.done_until
    FROM progress p CROSS JOIN LATERAL energy.hour_aggregates(p.done_until, now(), p.time_zone) h
),
-- each running hour's step into it, over the hours before its own
shares AS (
    SELECT r.metric_id, h.start, r.done_until,
           sum(r.gap_in
               * extract(epoch FROM least(h.start + interval '1 hour', r.gap_to) - greatest(h.start, r.gap_from))
               / extract(epoch FROM r.gap_to - r.gap_from)) AS share,
           bool_or(r.gap_to - r.gap_from > interval '5 minutes') AS estimated, max(r.gap_to - r.gap_from) AS step
    FROM running r
    CROSS JOIN LATERAL generate_series(date_trunc('hour', r.gap_from, r.time_zone), r.period_start - interval '1 hour',
                                       interval '1 hour') h (start)
    WHERE r.gap_from < r.period_start
    GROUP BY r.metric_id, h.start, r.done_until
),
-- what a stored hour holds of steps out of it into readings not stored yet: all but its own rise and its share of
-- the step into it
missing AS (
    SELECT s.metric_id, s.start, s.estimated, s.step,
           s.share - CASE WHEN s.start >= s.done_until THEN 0
                          ELSE coalesce(x.delta - coalesce(c.rise + c.gap_in * coalesce(
                                   extract(epoch FROM c.gap_to - greatest(s.start, c.gap_from))
                                   / nullif(extract(epoch FROM c.gap_to - c.gap_from), 0), 0), 0), 0) END AS delta
    FROM shares s
    LEFT JOIN energy.agg_hour x ON x.metric_id = s.metric_id AND x.period_start = s.start
    LEFT JOIN energy.counter_hour c ON c.metric_id = s.metric_id AND c.period_start = s.start
)
SELECT h.metric_id, h.period_start, h.period_end, h.n, h.sum, h.avg, h.min, h.max, h.first, h.last,
       h.first_ts, h.last_ts, h.delta, h.estimated,
       h.gap_to - h.gap_from AS step_in
FROM running h
UNION ALL
SELECT m.metric_id, m.start, m.start + interval '1 hour', 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       m.delta, m.estimated, m.step
FROM missing m
WHERE abs(m.delta) > 1e-9;
