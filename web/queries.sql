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
SELECT local_start, import_eur, export_eur, gas_eur, capacity_eur, fixed_eur, total_eur, solar_saving_eur
FROM energy.costs
WHERE level = %(level)s
  AND period_start >= timezone(energy.time_zone(), %(start)s::timestamp)
  AND period_start < timezone(energy.time_zone(), %(end)s::timestamp)
ORDER BY local_start;
