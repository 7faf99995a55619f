-- The hours not aggregated yet (the running one, and any the jobs have not reached), computed from raw readings as
-- of now: the source of every "so far" figure. step_in: how long the counter step into the hour's first reading, or
-- the one spanning the hour, was.
-- The hours before a counter's first reading not stored yet, stored ones included, hold a share of the step into
-- it; the hourly job stored the shares of the step it knew (none when the reading arrived later, from a collector
-- back from an outage): rows with n = 0 add what the stored hours lack.
CREATE OR REPLACE VIEW energy.agg_hour_running AS
WITH progress AS (
    SELECT coalesce(p.done_until, '-infinity') AS done_until, s.time_zone
    FROM energy.agg_progress p CROSS JOIN energy.settings s
    WHERE p.level = 'hour'
),
shares AS (
    SELECT m.id AS metric_id, h.start,
           s.inc * extract(epoch FROM least(h.start + interval '1 hour', r.ts) - greatest(h.start, a.last_ts))
               / extract(epoch FROM r.ts - a.last_ts) AS share,
           -- what the stored hour holds of the step out of the last stored reading
           CASE WHEN h.start = c.period_start
                THEN a.delta - c.rise - c.gap_in * coalesce(
                    extract(epoch FROM a.first_ts - greatest(h.start, c.gap_from))
                    / nullif(extract(epoch FROM a.first_ts - c.gap_from), 0), 0)
                ELSE coalesce(x.delta, 0) END AS stored,
           r.ts - a.last_ts > interval '5 minutes' AS estimated, r.ts - a.last_ts AS step
    FROM progress p
    JOIN energy.metric m ON m.kind = 'counter'
    CROSS JOIN LATERAL (SELECT c.* FROM energy.counter_hour c
                        WHERE c.metric_id = m.id AND c.period_start < p.done_until
                        ORDER BY c.period_start DESC LIMIT 1) c
    JOIN energy.agg_hour a ON a.metric_id = c.metric_id AND a.period_start = c.period_start
    CROSS JOIN LATERAL (SELECT r.ts, r.value FROM energy.raw_reading r
                        WHERE r.metric_id = m.id AND r.ts >= p.done_until AND r.ts < now()
                        ORDER BY r.ts LIMIT 1) r
    CROSS JOIN LATERAL (SELECT (energy.counter_step(ROW(0, c.hwm, c.hwm_ts, c.low_since, c.low_first, true), r.ts,
                                                    r.value, m.max_rise_per_hour)).inc) s
    CROSS JOIN LATERAL generate_series(date_trunc('hour', a.last_ts, p.time_zone),
                                       date_trunc('hour', r.ts, p.time_zone) - interval '1 hour', interval '1 hour')
        h (start)
    LEFT JOIN energy.agg_hour x ON x.metric_id = m.id AND x.period_start = h.start
    WHERE r.ts > a.last_ts
)
SELECT h.metric_id, h.period_start, h.period_end, h.n, h.sum, h.avg, h.min, h.max, h.first, h.last,
       h.first_ts, h.last_ts, h.delta, h.estimated,
       h.first_ts - h.gap_from AS step_in
FROM progress p
CROSS JOIN LATERAL energy.hour_aggregates(p.done_until, now(), p.time_zone) h
UNION ALL
SELECT s.metric_id, s.start, s.start + interval '1 hour', 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       s.share - s.stored, s.estimated, s.step
FROM shares s
WHERE abs(s.share - s.stored) > 1e-9;
