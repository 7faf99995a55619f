-- What a local day owes whatever energy flows, incl. VAT, per contract period and calendar month: its share of the
-- fixed fees (fixed_year / the days of its year) and of the capacity tariff (the month's twelve-month average
-- billed peak in kW x capacity_kw_year / 12, spread over the days of the month; NULL for a month without a known
-- peak). One row per contract and month it covers, first_day to last_day (inclusive), from the first contract to
-- the end of the month of today or of the last stored hour.
CREATE OR REPLACE VIEW energy.fee_rates AS
WITH span AS (
    -- one row (scalar subqueries: nothing for the planner to multiply before settings has statistics)
    SELECT (date_trunc('month', greatest(timezone(z.zone, now()), timezone(z.zone, z.stored_until)))
            + interval '1 month - 1 day')::date AS last_day
    FROM (SELECT (SELECT time_zone FROM energy.settings) AS zone,
                 (SELECT done_until FROM energy.agg_progress WHERE level = 'hour') AS stored_until) z
),
stretches AS (
    SELECT t.*, m.month::date AS month, greatest(t.valid_from, m.month::date) AS first_day,
           least(coalesce(t.valid_until - 1, span.last_day), (m.month + interval '1 month - 1 day')::date) AS last_day
    FROM energy.tariff_periods t
    CROSS JOIN span
    CROSS JOIN LATERAL generate_series(date_trunc('month', t.valid_from::timestamp),
                                       coalesce(t.valid_until - 1, span.last_day)::timestamp, interval '1 month') m(month)
)
SELECT s.valid_from, s.month, s.first_day, s.last_day, c.average_12_months_w,
       -- in double precision (the amounts of energy.costs are rounded to the cent once summed)
       c.average_12_months_w / 1000 * s.capacity_kw_year::float8 / 12 * s.vat_factor::float8
           / date_part('day', s.month + interval '1 month - 1 day') AS capacity_eur_per_day,
       s.fixed_year::float8 * s.vat_factor::float8
           / date_part('doy', date_trunc('year', s.month) + interval '1 year - 1 day') AS fixed_eur_per_day
FROM stretches s
LEFT JOIN energy.capacity_tariff c ON c.month = to_char(s.month, 'YYYY-MM');
