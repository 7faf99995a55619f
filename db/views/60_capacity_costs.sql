-- The capacity tariff in EUR incl. VAT per calendar month that a contract covers from its first day: the twelve-month
-- average billed peak (energy.capacity_tariff) x capacity_kw_year / 12, the sum of its days' shares (so a contract
-- change within the month counts day by day). For the current month it is the projection from the peak so far.
CREATE OR REPLACE VIEW energy.capacity_costs AS
SELECT to_char(min(f.day), 'YYYY-MM') AS month, min(f.average_12_months_w) AS average_12_months_w,
       CASE WHEN count(f.capacity_eur) = count(*) THEN round(sum(f.capacity_eur)::numeric, 2) END AS capacity_eur
FROM energy.daily_fees f
GROUP BY date_trunc('month', f.day)
HAVING min(f.day) = date_trunc('month', min(f.day));
