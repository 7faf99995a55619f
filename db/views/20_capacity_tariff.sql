-- The capacity tariff: each month's highest quarter-hour demand (1-0:1.6.0) and when it happened, and what is
-- billed (Fluvius counts at least 2.5 kW a month), and the average billed over the twelve calendar months ending
-- with it (of the months present), on which the tariff is charged. The current month comes from the latest reading.
CREATE OR REPLACE VIEW energy.capacity_tariff AS
WITH peaks AS (
    SELECT local_start, last AS peak_w, last_ts AS peak_at
    FROM energy.aggregates WHERE level = 'month' AND source = 'dsmr' AND metric = 'demand_max_month' AND n > 0
    UNION ALL
    SELECT date_trunc('month', timezone(s.time_zone, l.ts)), l.value, l.ts
    FROM energy.latest l CROSS JOIN energy.settings s
    WHERE l.source = 'dsmr' AND l.metric = 'demand_max_month'
),
per_month AS (
    SELECT DISTINCT ON (local_start) local_start, peak_w, peak_at, greatest(peak_w, 2500) AS billed_w
    FROM peaks
    ORDER BY local_start, peak_at DESC
)
SELECT to_char(local_start, 'YYYY-MM') AS month, peak_w, peak_at, billed_w,
       avg(billed_w) OVER (ORDER BY local_start RANGE BETWEEN interval '11 months' PRECEDING AND CURRENT ROW)
           AS average_12_months_w
FROM per_month;
