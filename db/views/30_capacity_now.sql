-- The running quarter hour against this month's peak, for the capacity tariff: the meter's average demand so far
-- (1-0:1.4.0, the energy of the quarter so far over the time elapsed), the power drawn now, and where the quarter
-- is heading if that power holds for the minutes left: (demand × elapsed + power now × left) / 15 minutes.
-- It heads past the peak when that exceeds what this month is billed on: the month's peak (1-0:1.6.0), at least
-- the 2.5 kW Fluvius always counts. Values older than this quarter (or a minute, for the power) are left out.
CREATE OR REPLACE VIEW energy.capacity_now AS
WITH quarter AS (
    SELECT date_bin('15 minutes', now(), timestamptz '2000-01-01 00:00+00') AS start
),
meter AS (
    SELECT max(l.value) FILTER (WHERE l.metric = 'demand_avg_quarter' AND l.ts >= q.start) AS demand_w,
           max(l.ts) FILTER (WHERE l.metric = 'demand_avg_quarter' AND l.ts >= q.start) AS demand_at,
           max(l.value) FILTER (WHERE l.metric = 'power_import' AND l.ts > now() - interval '1 minute') AS import_w
    FROM energy.latest l CROSS JOIN quarter q
    WHERE l.source = 'dsmr' AND l.metric IN ('demand_avg_quarter', 'power_import')
),
month AS (
    SELECT t.peak_w, t.peak_at FROM energy.capacity_tariff t CROSS JOIN energy.settings s
    WHERE t.month = to_char(timezone(s.time_zone, now()), 'YYYY-MM')
),
projection AS (
    SELECT q.start, m.demand_w, m.demand_at, m.import_w, month.peak_w, month.peak_at,
           greatest(month.peak_w, 2500) AS billed_peak_w,
           extract(epoch FROM now() - q.start) AS elapsed,
           extract(epoch FROM q.start + interval '15 minutes' - now()) AS left_s
    FROM quarter q CROSS JOIN meter m LEFT JOIN month ON true
)
SELECT p.start AS quarter_start, p.start + interval '15 minutes' AS quarter_end, round(p.left_s) AS seconds_left,
       p.demand_w, p.demand_at, p.import_w,
       round(((p.demand_w * p.elapsed + coalesce(p.import_w, p.demand_w) * p.left_s) / 900)::numeric) AS projected_w,
       p.peak_w, p.peak_at, p.billed_peak_w,
       coalesce((p.demand_w * p.elapsed + coalesce(p.import_w, p.demand_w) * p.left_s) / 900 > p.billed_peak_w, false)
           AS heading_past_peak
FROM projection p;
