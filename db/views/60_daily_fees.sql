-- What each local day owes whatever energy flows, incl. VAT, under the contract valid that day: its share of the
-- capacity tariff (NULL for a month without a known peak) and of the fixed fees (energy.fee_rates, day by day).
CREATE OR REPLACE VIEW energy.daily_fees AS
SELECT d.day::date AS day, r.valid_from, r.average_12_months_w, r.capacity_eur_per_day AS capacity_eur,
       r.fixed_eur_per_day AS fixed_eur
FROM energy.fee_rates r
CROSS JOIN LATERAL generate_series(r.first_day::timestamp, r.last_day::timestamp, interval '1 day') d(day);
