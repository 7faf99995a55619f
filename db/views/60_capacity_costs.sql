-- The capacity tariff in EUR incl. VAT per calendar month that a contract covers from its first day: the twelve-month
-- average billed peak (energy.capacity_tariff) x capacity_kw_year / 12, the sum of its days' shares (so a contract
-- change within the month counts day by day). For the current month it is the projection from the peak so far.
CREATE OR REPLACE VIEW energy.capacity_costs AS
SELECT to_char(r.month, 'YYYY-MM') AS month, min(r.average_12_months_w) AS average_12_months_w,
       CASE WHEN count(r.capacity_eur_per_day) = count(*)
            THEN round(sum((r.last_day - r.first_day + 1) * r.capacity_eur_per_day)::numeric, 2) END AS capacity_eur
FROM energy.fee_rates r
GROUP BY r.month
HAVING min(r.first_day) = r.month;
