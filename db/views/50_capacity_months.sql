-- The twelve calendar months whose billed peaks make up this month's capacity-tariff average, on a fixed axis
-- (a month without a peak has no bar and does not count), the oldest marked: it drops out when the next month
-- starts. average_12_months_w is what this month is billed on (energy.capacity_tariff).
CREATE OR REPLACE VIEW energy.capacity_months AS
WITH axis AS (
    SELECT to_char(m, 'YYYY-MM') AS month, m = date_trunc('month', c.today::timestamp) - interval '11 months' AS drops_out_next,
           m = date_trunc('month', c.today::timestamp) AS this_month
    FROM energy.calendar c
    CROSS JOIN generate_series(date_trunc('month', c.today::timestamp) - interval '11 months', date_trunc('month', c.today::timestamp),
                               interval '1 month') m
)
SELECT a.month, t.peak_w, t.peak_at, t.billed_w, a.drops_out_next, a.this_month,
       (SELECT avg(b.billed_w) FROM energy.capacity_tariff b JOIN axis x ON x.month = b.month) AS average_12_months_w
FROM axis a
LEFT JOIN energy.capacity_tariff t ON t.month = a.month;
