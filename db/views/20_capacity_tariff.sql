-- The capacity tariff: each month's highest quarter-hour demand (1-0:1.6.0) and when it happened, and what is
-- billed (Fluvius counts at least 2.5 kW a month), and the average billed over the twelve months ending with it,
-- on which the tariff is charged. The current month comes from the latest reading.
CREATE OR REPLACE VIEW energy.capacity_tariff AS
WITH peaks AS (
    SELECT local_start, last AS peak_w, last_ts AS peak_at
    FROM energy.aggregates WHERE level = 'month' AND source = 'dsmr' AND metric = 'demand_max_month'
    UNION ALL
    SELECT date_trunc('month', timezone(s.time_zone, l.ts)), l.value, l.ts
    FROM energy.latest l CROSS JOIN energy.settings s
    WHERE l.source = 'dsmr' AND l.metric = 'demand_max_month'
)
SELECT month, peak_w, peak_at, billed_w,
       avg(billed_w) OVER (ORDER BY month ROWS BETWEEN 11 PRECEDING AND CURRENT ROW) AS average_12_months_w
FROM (
    SELECT DISTINCT ON (local_start) to_char(local_start, 'YYYY-MM') AS month, peak_w, peak_at,
           greatest(peak_w, 2500) AS billed_w
    FROM peaks
    ORDER BY local_start, peak_at DESC
) per_month;
