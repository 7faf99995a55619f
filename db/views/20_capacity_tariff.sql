-- The capacity tariff: each month's highest quarter-hour demand and when it happened, what is billed (Fluvius
-- counts at least 2.5 kW a month), and the average billed over the twelve calendar months ending with it (of the
-- months present), on which the tariff is charged. The live meter's own peak (1-0:1.6.0) counts where it has one;
-- for older months, imported portal history gives the largest quarter-hour offtake x 4 (its time to the hour, as
-- the quarter's own raw reading is gone once aggregated). The current month comes from the latest reading.
CREATE OR REPLACE VIEW energy.capacity_tariff AS
WITH meter AS (
    SELECT local_start, last AS peak_w, last_ts AS peak_at, 1 AS preference
    FROM energy.aggregates WHERE level = 'month' AND source = 'dsmr' AND metric = 'demand_max_month' AND n > 0
    UNION ALL
    SELECT date_trunc('month', timezone(s.time_zone, l.ts)), l.value, l.ts, 1
    FROM energy.latest l CROSS JOIN energy.settings s
    WHERE l.source = 'dsmr' AND l.metric = 'demand_max_month'
),
monthly_history AS (
    SELECT timezone(s.time_zone, a.period_start) AS local_start, a.period_start, a.period_end, max(a.max) AS max,
           array_agg(a.metric_id) AS metric_ids
    FROM energy.agg_month a
    JOIN energy.metric m ON m.id = a.metric_id
    CROSS JOIN energy.settings s
    WHERE m.source = 'fluvius' AND m.name IN ('energy_import_t1', 'energy_import_t2') AND a.n > 0
    GROUP BY s.time_zone, a.period_start, a.period_end
),
history AS (
    SELECT h.local_start, 4000 * h.max AS peak_w, 2 AS preference,
           (SELECT min(q.period_start) FROM energy.agg_hour q
            WHERE q.metric_id = ANY (h.metric_ids) AND q.period_start >= h.period_start
              AND q.period_start < h.period_end AND q.max = h.max) AS peak_at
    FROM monthly_history h
),
peaks AS (
    SELECT local_start, peak_w, peak_at, preference FROM meter
    UNION ALL
    SELECT local_start, peak_w, peak_at, preference FROM history
),
per_month AS (
    SELECT DISTINCT ON (local_start) local_start, peak_w, peak_at, greatest(peak_w, 2500) AS billed_w,
           CASE preference WHEN 1 THEN 'meter' ELSE 'history' END AS origin
    FROM peaks
    ORDER BY local_start, preference, peak_at DESC
)
SELECT to_char(local_start, 'YYYY-MM') AS month, peak_w, peak_at, billed_w,
       avg(billed_w) OVER (ORDER BY local_start RANGE BETWEEN interval '11 months' PRECEDING AND CURRENT ROW)
           AS average_12_months_w,
       origin
FROM per_month;
