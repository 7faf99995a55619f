-- What each local day owes whatever energy flows, incl. VAT, under the contract valid that day: its share of the
-- fixed fees (fixed_year / the days of its year) and of the capacity tariff (the month's twelve-month average
-- billed peak in kW x capacity_kw_year / 12, spread over the days of the month; NULL for a month without a known
-- peak). From the first contract's first day to the end of the month of today or of the last stored hour.
CREATE OR REPLACE VIEW energy.daily_fees AS
WITH span AS (
    -- one row (scalar subqueries: nothing for the planner to multiply before settings has statistics)
    SELECT (date_trunc('month', greatest(timezone(z.zone, now()), timezone(z.zone, z.stored_until)))
            + interval '1 month - 1 day')::date AS last_day
    FROM (SELECT (SELECT time_zone FROM energy.settings) AS zone,
                 (SELECT done_until FROM energy.agg_progress WHERE level = 'hour') AS stored_until) z
)
SELECT d.day::date AS day, t.valid_from, c.average_12_months_w,
       -- in double precision (the amounts of energy.costs are rounded to the cent once summed)
       c.average_12_months_w / 1000 * t.capacity_kw_year::float8 / 12 * t.vat_factor::float8
           / date_part('day', date_trunc('month', d.day) + interval '1 month - 1 day') AS capacity_eur,
       t.fixed_year::float8 * t.vat_factor::float8
           / date_part('doy', date_trunc('year', d.day) + interval '1 year - 1 day') AS fixed_eur
FROM energy.tariff_periods t
CROSS JOIN span
-- the days of each contract period
CROSS JOIN LATERAL generate_series(t.valid_from::timestamp, coalesce(t.valid_until - 1, span.last_day)::timestamp,
                                   interval '1 day') d(day)
LEFT JOIN energy.capacity_tariff c ON c.month = to_char(d.day, 'YYYY-MM');
