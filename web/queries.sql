-- Named queries of the dashboard; every one reads views (or the history functions, which read views) only.

-- name: live
SELECT solar_w, import_w, export_w, consumption_w, solar_share_pct, rated_w, solar_at, grid_at, solar_to_home_w,
       solar_to_grid_w, grid_to_home_w, battery_w, battery_soc_pct
FROM energy.power_flow;

-- name: recent
SELECT ts, solar_w, import_w, export_w FROM energy.recent_power ORDER BY ts;

-- name: quarter
SELECT quarter_start, quarter_end, seconds_left, demand_w, demand_at, import_w, projected_w, peak_w, peak_at,
       billed_peak_w, heading_past_peak
FROM energy.capacity_now;

-- name: history
SELECT * FROM energy.history_compared(%(level)s, %(start)s, %(end)s);

-- name: today
SELECT * FROM energy.history('day', %(today)s, %(today)s + 1);

-- name: capacity_months
SELECT month, peak_w, peak_at, billed_w, origin, drops_out_next, this_month, average_12_months_w
FROM energy.capacity_months ORDER BY month;

-- name: demand_today
SELECT period_start, period_end, demand_w, complete FROM energy.demand_today ORDER BY period_start;

-- name: alerts
SELECT kind, subject, since, seconds, detail FROM energy.alerts ORDER BY kind, subject;

-- name: sources
SELECT source, last_reading, age_seconds, stale FROM energy.source_status ORDER BY source;

-- name: aggregation
SELECT level, done_until, extract(epoch FROM behind) AS behind_seconds, late
FROM energy.aggregation_status ORDER BY done_until NULLS FIRST;

-- name: job_runs
SELECT job, status, start_time, end_time, message FROM energy.job_runs ORDER BY start_time DESC;

-- name: database_size
SELECT pg_database_size(current_database()) AS bytes;

-- name: calendar
SELECT time_zone, today FROM energy.calendar;

-- Money (energy.costs): shown only when a contract covers today.

-- name: tariff_today
SELECT EXISTS (SELECT FROM energy.tariff_periods t CROSS JOIN energy.calendar c WHERE t.valid_from <= c.today)
    AS covered;

-- name: costs_today
SELECT import_eur, export_eur, gas_eur, capacity_eur, fixed_eur, total_eur, solar_saving_eur
FROM energy.costs WHERE level = 'today';

-- name: capacity_cost
SELECT c.month, c.average_12_months_w, c.capacity_eur
FROM energy.capacity_costs c CROSS JOIN energy.calendar d
WHERE c.month = to_char(d.today, 'YYYY-MM');

-- name: costs_history
-- The money of every period of a history chart's window (level hour, day, week or month), on the axis of
-- energy.history: a row per period, complete when stored at its level. A stored period has the amounts of
-- energy.costs; one not stored yet (the running one) adds up what is stored of it, as energy.history adds up its
-- energy: the days stored after the last stored period, then the hours stored of the days not stored yet, then
-- today so far (energy.costs' today: the running day's bar is today's money). Amounts only where a contract covers
-- the period from its first day, as in energy.costs; a sum is unknown (NULL) when one of its parts is.
WITH bounds AS (
    SELECT z.zone, timezone(z.zone, %(start)s::timestamp) AS first, timezone(z.zone, %(end)s::timestamp) AS after,
           coalesce(max(s.done_until) FILTER (WHERE s.level = %(level)s), '-infinity') AS done,
           coalesce(max(s.done_until) FILTER (WHERE s.level = 'day'), '-infinity') AS done_day,
           date_trunc('day', now(), z.zone) AS midnight
    FROM (SELECT energy.time_zone() AS zone) z CROSS JOIN energy.aggregation_status s
    GROUP BY z.zone
),
pieces AS (
    SELECT c.*
    FROM bounds b CROSS JOIN LATERAL (
        SELECT * FROM energy.costs c
        WHERE c.period_start >= b.first AND c.period_start < b.after
          AND (c.level = %(level)s
               OR %(level)s IN ('week', 'month') AND c.level = 'day' AND c.period_start >= b.done
                  AND c.period_start < b.done_day
               OR %(level)s <> 'hour' AND c.level = 'hour' AND c.period_start >= greatest(b.done, b.done_day)
                  AND c.period_start < b.midnight
               OR %(level)s <> 'hour' AND c.level = 'today' AND c.period_start >= b.done)
        -- planned on its own, with the bounds as parameters, so that energy.costs prices only these periods
        OFFSET 0
    ) c
),
axis AS (
    SELECT a.start AS period_start, a.start + interval '1 hour' AS period_end
    FROM bounds b CROSS JOIN generate_series(b.first, b.after - interval '1 hour', interval '1 hour') a (start)
    WHERE %(level)s = 'hour'
    UNION ALL
    SELECT timezone(b.zone, a.local), timezone(b.zone, a.local + ('1 ' || %(level)s)::interval)
    FROM bounds b CROSS JOIN generate_series(%(start)s::timestamp, %(end)s::timestamp - interval '1 second',
                                             ('1 ' || %(level)s)::interval) a (local)
    WHERE %(level)s <> 'hour'
)
SELECT x.period_start, x.period_end, timezone(b.zone, x.period_start) AS local_start,
       x.period_end <= b.done AS complete,
       CASE WHEN count(p.import_eur) = count(p.level) THEN sum(p.import_eur) END AS import_eur,
       CASE WHEN count(p.export_eur) = count(p.level) THEN sum(p.export_eur) END AS export_eur,
       CASE WHEN count(p.gas_eur) = count(p.level) THEN sum(p.gas_eur) END AS gas_eur,
       CASE WHEN count(p.capacity_eur) = count(p.level) THEN sum(p.capacity_eur) END AS capacity_eur,
       CASE WHEN count(p.fixed_eur) = count(p.level) THEN sum(p.fixed_eur) END AS fixed_eur,
       CASE WHEN count(p.total_eur) = count(p.level) THEN sum(p.total_eur) END AS total_eur,
       CASE WHEN count(p.solar_saving_eur) = count(p.level) THEN sum(p.solar_saving_eur) END AS solar_saving_eur
FROM axis x
CROSS JOIN bounds b
LEFT JOIN pieces p
  ON p.period_start >= x.period_start AND p.period_start < x.period_end
 AND EXISTS (SELECT FROM energy.tariff_periods t WHERE t.valid_from <= timezone(b.zone, x.period_start)::date)
GROUP BY x.period_start, x.period_end, b.zone, b.done
ORDER BY x.period_start;
