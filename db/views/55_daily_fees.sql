-- What each local day owes whatever energy flows, incl. VAT, under the contract valid that day: its share of the
-- fixed fees (fixed_year / the days of its year) and of the capacity tariff (the month's twelve-month average
-- billed peak in kW x capacity_kw_year / 12, spread over the days of the month; NULL for a month without a known
-- peak). From the first contract's first day to the end of the month of today or of the last stored hour.
CREATE OR REPLACE VIEW energy.daily_fees AS
WITH span AS (
    -- one row: scalar subqueries, so that the planner counts on one day per day (and on nothing that settings or
    -- agg_progress hold before their statistics are gathered)
    SELECT (SELECT min(valid_from) FROM energy.tariff)::timestamp AS first_day,
           date_trunc('month', greatest(timezone(z.zone, now()), timezone(z.zone, z.stored_until)))
               + interval '1 month - 1 day' AS last_day
    FROM (SELECT (SELECT time_zone FROM energy.settings) AS zone,
                 (SELECT done_until FROM energy.agg_progress WHERE level = 'hour') AS stored_until) z
)
SELECT d.day::date AS day, t.valid_from, c.average_12_months_w,
       c.average_12_months_w::numeric / 1000 * t.capacity_kw_year / 12 * t.vat_factor
           / extract(day FROM date_trunc('month', d.day) + interval '1 month - 1 day') AS capacity_eur,
       t.fixed_year * t.vat_factor
           / extract(doy FROM date_trunc('year', d.day) + interval '1 year - 1 day') AS fixed_eur
FROM span
CROSS JOIN LATERAL generate_series(span.first_day, span.last_day, interval '1 day') d(day)
-- the contract of the day: the latest that started by then
CROSS JOIN LATERAL (
    SELECT t.* FROM energy.tariff_periods t WHERE t.valid_from <= d.day ORDER BY t.valid_from DESC LIMIT 1
) t
LEFT JOIN energy.capacity_tariff c ON c.month = to_char(d.day, 'YYYY-MM');
