-- The contract periods of energy.tariff with the day each ends (valid_until, excluded), the instants they start
-- and end (local midnights, in UTC), both NULL for the current one, and the factor that turns their prices into
-- prices incl. VAT (1 when they include it already).
CREATE OR REPLACE VIEW energy.tariff_periods AS
SELECT t.*, timezone(z.zone, t.valid_from::timestamp) AS starts_at,
       timezone(z.zone, t.valid_until::timestamp) AS ends_at,
       CASE WHEN t.prices_include_vat THEN 1 ELSE 1 + t.vat_rate END AS vat_factor
FROM (SELECT t.*, lead(t.valid_from) OVER (ORDER BY t.valid_from) AS valid_until FROM energy.tariff t) t
CROSS JOIN (SELECT (SELECT time_zone FROM energy.settings) AS zone) z;
