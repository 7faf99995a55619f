-- The twelve calendar months whose billed peaks make up this month's capacity-tariff average, on a fixed axis
-- (a month without a peak has no bar and does not count), the oldest marked: it drops out when the next month
-- starts. average_12_months_w is what this month is billed on; origin: the meter's own peak or portal history
-- (energy.capacity_tariff).
CREATE OR REPLACE VIEW energy.capacity_months AS
WITH this AS (
    SELECT date_trunc('month', c.today::timestamp) AS month FROM energy.calendar c
),
axis AS (
    SELECT to_char(m, 'YYYY-MM') AS month, m = t.month - interval '11 months' AS drops_out_next,
           m = t.month AS this_month
    FROM this t
    CROSS JOIN generate_series(t.month - interval '11 months', t.month, interval '1 month') m
),
tariff AS MATERIALIZED (  -- read once
    SELECT t.month, t.peak_w, t.peak_at, t.billed_w, t.origin
    FROM energy.capacity_tariff t JOIN axis a ON a.month = t.month
)
SELECT a.month, t.peak_w, t.peak_at, t.billed_w, t.origin, a.drops_out_next, a.this_month,
       (SELECT avg(b.billed_w) FROM tariff b) AS average_12_months_w
FROM axis a
LEFT JOIN tariff t ON t.month = a.month;
