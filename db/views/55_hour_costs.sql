-- Every hour's energy (energy.agg_all: stored hours as level 'hour', hours not stored yet as 'running') priced under
-- the contract of its local day, the source of energy.costs. A fixed contract prices each register at its own
-- price; a dynamic one at a x market + b, the market price of the hour being the mean of its prices weighted by
-- their length (the hour's energy is not split by quarter hour: its four quarter-hour prices count equally). An
-- hour of a dynamic contract without a complete set of market prices has NULL amounts where energy flowed. Gas
-- in kWh is the metered m3 x gas_m3_to_kwh. The solar saving prices the self-consumed production (produced minus
-- exported) at the import price of the hour, the day and night prices weighted by the registers the meter
-- counted on in that hour (the day price when it counted nothing). Amounts in EUR incl. VAT, export excepted.
CREATE OR REPLACE VIEW energy.hour_costs AS
WITH ids AS MATERIALIZED (
    SELECT id, name FROM energy.metric WHERE source = 'flow'
),
flows AS (
    -- The flows' ids come from subqueries that run once: each period's hours are read through the primary key.
    SELECT a.level, a.period_start,
           coalesce(sum(a.delta) FILTER (WHERE a.metric_id = (SELECT id FROM ids WHERE name = 'produced')), 0)
               AS produced,
           coalesce(sum(a.delta) FILTER (WHERE a.metric_id = (SELECT id FROM ids WHERE name = 'imported_t1')), 0)
               AS imported_day,
           coalesce(sum(a.delta) FILTER (WHERE a.metric_id = (SELECT id FROM ids WHERE name = 'imported_t2')), 0)
               AS imported_night,
           coalesce(sum(a.delta) FILTER (WHERE a.metric_id = (SELECT id FROM ids WHERE name = 'exported_t1')), 0)
               AS exported_day,
           coalesce(sum(a.delta) FILTER (WHERE a.metric_id = (SELECT id FROM ids WHERE name = 'exported_t2')), 0)
               AS exported_night,
           coalesce(sum(a.delta) FILTER (WHERE a.metric_id = (SELECT id FROM ids WHERE name = 'gas')), 0) AS gas_m3
    FROM energy.agg_all a
    WHERE a.level IN ('hour', 'running') AND a.metric_id = ANY (ARRAY(SELECT id FROM ids))
    GROUP BY a.level, a.period_start
),
priced AS (
    -- in double precision, as the energy is: the amounts are rounded to the cent only once summed
    SELECT f.*, t.valid_from, t.vat_factor::float8 AS vat_factor, t.gas_kwh::float8 AS gas_kwh,
           t.gas_m3_to_kwh::float8 AS gas_m3_to_kwh, mp.eur_per_kwh AS market_eur_per_kwh,
           coalesce(t.import_day, t.import_market_factor * mp.eur_per_kwh + t.import_market_add)::float8
               AS import_day_price,
           coalesce(t.import_night, t.import_market_factor * mp.eur_per_kwh + t.import_market_add)::float8
               AS import_night_price,
           coalesce(t.export_day, t.export_market_factor * mp.eur_per_kwh + t.export_market_add)::float8
               AS export_day_price,
           coalesce(t.export_night, t.export_market_factor * mp.eur_per_kwh + t.export_market_add)::float8
               AS export_night_price,
           greatest(f.produced - f.exported_day - f.exported_night, 0) AS self_consumed,
           f.imported_day + f.imported_night + f.exported_day + f.exported_night AS grid
    FROM flows f
    JOIN energy.tariff_periods t ON f.period_start >= t.starts_at AND (t.ends_at IS NULL OR f.period_start < t.ends_at)
    LEFT JOIN LATERAL (
        SELECT sum(p.eur_per_kwh * extract(epoch FROM p.period_end - p.period_start)) / 3600 AS eur_per_kwh
        FROM energy.market_price p
        WHERE (t.import_market_factor IS NOT NULL OR t.export_market_factor IS NOT NULL)
          AND p.period_start >= f.period_start AND p.period_start < f.period_start + interval '1 hour'
        HAVING sum(extract(epoch FROM p.period_end - p.period_start)) = 3600
    ) mp ON true
)
SELECT level, period_start, valid_from, produced, imported_day, imported_night, exported_day, exported_night,
       gas_m3, self_consumed, market_eur_per_kwh,
       CASE WHEN imported_day + imported_night = 0 THEN 0
            ELSE (imported_day * import_day_price + imported_night * import_night_price) * vat_factor
       END AS import_eur,
       CASE WHEN exported_day + exported_night = 0 THEN 0
            ELSE exported_day * export_day_price + exported_night * export_night_price
       END AS export_eur,
       gas_m3 * gas_m3_to_kwh * gas_kwh * vat_factor AS gas_eur,
       CASE WHEN self_consumed = 0 THEN 0
            WHEN grid = 0 THEN self_consumed * import_day_price * vat_factor
            ELSE self_consumed * vat_factor * ((imported_day + exported_day) * import_day_price
                                               + (imported_night + exported_night) * import_night_price) / grid
       END AS solar_saving_eur
FROM priced;
