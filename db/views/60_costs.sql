-- What the energy of each period cost, in EUR incl. VAT, for the periods of energy.flows (level hour, day, week,
-- month, and today so far) that a contract of energy.tariff covers from their first day: no contract, no row.
-- Every hour is priced under the contract of its local day: a fixed contract prices each register at its own price,
-- a dynamic one at a x market + b with the market price of that hour, the mean of its prices weighted by their
-- length (the stored energy is hourly: quarter-hour prices count equally, the approximation); an hour without a
-- complete set of market prices makes the amounts it has energy in NULL. Gas in kWh is the metered m3 x
-- gas_m3_to_kwh. import_eur: the imported energy; export_eur: what the exported energy earned (no VAT: a
-- household's injection is no VAT-liable supply); gas_eur: the gas (NULL without a gas price); capacity_eur and
-- fixed_eur: the period's share of the capacity tariff and of the fixed fees (the sum of its days' shares,
-- energy.fee_rates; an hour's is its day's divided by the day's 23, 24 or 25 hours; today's is the whole day's);
-- total_eur: what the household pays, import - export + gas + capacity + fixed (gas and capacity left out when
-- NULL); solar_saving_eur: what the self-consumed solar energy (produced - exported) would have cost if imported,
-- at the import price of the hour, day and night prices weighted by the registers the meter counted on in that
-- hour (the day price when it counted nothing). Each amount is the sum of its hours, rounded to the cent.
-- A filter on level and period_start reaches the aggregates' primary keys: each period's hours are read by range.
CREATE OR REPLACE VIEW energy.costs AS
WITH ids AS MATERIALIZED (
    SELECT id, name FROM energy.metric WHERE source = 'flow'
),
-- the contracts once per query, as double precision, as the energy is (amounts are rounded once summed)
contracts AS MATERIALIZED (
    SELECT t.starts_at, t.ends_at, t.vat_factor::float8 AS vat, (t.gas_kwh * t.gas_m3_to_kwh)::float8 AS gas,
           t.import_day::float8, t.import_night::float8, t.export_day::float8, t.export_night::float8,
           t.import_market_factor::float8, t.import_market_add::float8,
           t.export_market_factor::float8, t.export_market_add::float8
    FROM energy.tariff_periods t
),
stored AS (
    SELECT DISTINCT a.level, a.period_start, a.period_end
    FROM energy.agg_all a
    WHERE a.level IN ('hour', 'day', 'week', 'month')
      AND a.metric_id = ANY (ARRAY(SELECT id FROM ids))
    UNION ALL
    SELECT 'today', d.midnight, energy.period_end(d.midnight, 'day', d.zone)
    FROM (SELECT date_trunc('day', now(), z.zone) AS midnight, z.zone
          FROM (SELECT (SELECT time_zone FROM energy.settings) AS zone) z) d
),
periods AS (
    SELECT p.*, z.zone, timezone(z.zone, p.period_start)::date AS first_day,
           -- the local days it spans: 1 for an hour, 1 for a day, 7 for a week, 28 to 31 for a month
           (timezone(z.zone, p.period_end) - interval '1 microsecond')::date - timezone(z.zone, p.period_start)::date
               + 1 AS days,
           -- an hour owes its share of its day's fees: one of the day's 23, 24 or 25 hours
           CASE WHEN p.level = 'hour'
                THEN 3600 / date_part('epoch', energy.period_end(date_trunc('day', p.period_start, z.zone), 'day',
                                                                 z.zone) - date_trunc('day', p.period_start, z.zone))
                ELSE 1 END AS share
    FROM stored p
    CROSS JOIN (SELECT (SELECT time_zone FROM energy.settings) AS zone) z
),
fees AS (
    SELECT p.level, p.period_start, p.period_end, p.zone, bool_and(r.month IS NOT NULL) AS covered,
           CASE WHEN count(r.capacity_eur_per_day) = count(*) THEN sum(r.capacity_eur_per_day) * p.share END
               AS capacity_eur,
           sum(r.fixed_eur_per_day) * p.share AS fixed_eur
    FROM periods p
    -- a period spans at most 31 local days (a constant series: the planner knows how many rows it gives)
    JOIN generate_series(0, 30) n(days) ON n.days < p.days
    CROSS JOIN LATERAL (SELECT p.first_day + n.days AS day) d
    LEFT JOIN energy.fee_rates r
      ON r.month = date_trunc('month', d.day)::date AND d.day BETWEEN r.first_day AND r.last_day
    GROUP BY p.level, p.period_start, p.period_end, p.zone, p.share
),
amounts AS (
    SELECT p.level, p.period_start, p.zone, p.capacity_eur, p.fixed_eur, e.*
    FROM fees p
    CROSS JOIN LATERAL (
        -- the period's hours: stored, and for today those not stored yet
        WITH flows AS (
            SELECT a.period_start,
                   coalesce(sum(a.delta) FILTER (WHERE a.metric_id = (SELECT id FROM ids WHERE name = 'produced')),
                            0) AS produced,
                   coalesce(sum(a.delta) FILTER (WHERE a.metric_id = (SELECT id FROM ids WHERE name = 'imported_t1')),
                            0) AS imported_day,
                   coalesce(sum(a.delta) FILTER (WHERE a.metric_id = (SELECT id FROM ids WHERE name = 'imported_t2')),
                            0) AS imported_night,
                   coalesce(sum(a.delta) FILTER (WHERE a.metric_id = (SELECT id FROM ids WHERE name = 'exported_t1')),
                            0) AS exported_day,
                   coalesce(sum(a.delta) FILTER (WHERE a.metric_id = (SELECT id FROM ids WHERE name = 'exported_t2')),
                            0) AS exported_night,
                   coalesce(sum(a.delta) FILTER (WHERE a.metric_id = (SELECT id FROM ids WHERE name = 'gas')), 0)
                       AS gas_m3
            FROM (
                SELECT h.metric_id, h.period_start, h.delta FROM energy.agg_hour h
                WHERE h.metric_id = ANY (ARRAY(SELECT id FROM ids))
                  AND h.period_start >= p.period_start AND h.period_start < p.period_end
                UNION ALL
                -- today's hours not stored yet, derived as the stored ones are (the running flows of
                -- energy.agg_all, without its running hours of every other metric)
                SELECT i.id, r.period_start, r.delta
                FROM energy.hour_flows('-infinity', 'infinity', true) r
                JOIN ids i ON i.name = r.flow
                WHERE p.level = 'today'
                  AND r.period_start >= p.period_start AND r.period_start < p.period_end
            ) a
            GROUP BY a.period_start
        ),
        -- the market price of each hour of the period, when its prices cover it: an hourly price, or four
        -- quarter-hour prices (aligned and never overlapping, so four cover it), weighted equally
        market AS (
            SELECT date_bin('1 hour', m.period_start, timestamptz '2000-01-01 00:00+00') AS hour,
                   avg(m.eur_per_kwh::float8) AS eur_per_kwh
            FROM energy.market_price m
            WHERE (SELECT bool_or(t.import_market_factor IS NOT NULL OR t.export_market_factor IS NOT NULL)
                   FROM energy.tariff t)
              AND m.period_start >= p.period_start AND m.period_start < p.period_end
            GROUP BY 1
            HAVING count(*) = 4 OR min(m.period_end - m.period_start) = interval '1 hour'
        ),
        -- the contracts valid during the period
        contract AS MATERIALIZED (
            SELECT * FROM contracts c
            WHERE c.starts_at < p.period_end AND (c.ends_at IS NULL OR c.ends_at > p.period_start)
        ),
        priced AS (
            SELECT f.*, t.vat, t.gas,
                   coalesce(t.import_day, t.import_market_factor * m.eur_per_kwh + t.import_market_add)
                       AS import_day_price,
                   coalesce(t.import_night, t.import_market_factor * m.eur_per_kwh + t.import_market_add)
                       AS import_night_price,
                   coalesce(t.export_day, t.export_market_factor * m.eur_per_kwh + t.export_market_add)
                       AS export_day_price,
                   coalesce(t.export_night, t.export_market_factor * m.eur_per_kwh + t.export_market_add)
                       AS export_night_price,
                   greatest(f.produced - f.exported_day - f.exported_night, 0) AS self_consumed,
                   f.imported_day + f.imported_night + f.exported_day + f.exported_night AS grid
            FROM flows f
            JOIN contract t ON f.period_start >= t.starts_at AND (t.ends_at IS NULL OR f.period_start < t.ends_at)
            LEFT JOIN market m ON m.hour = f.period_start
        ),
        hours AS (
            SELECT CASE WHEN imported_day + imported_night = 0 THEN 0
                        ELSE (imported_day * import_day_price + imported_night * import_night_price) * vat
                   END AS import_eur,
                   CASE WHEN exported_day + exported_night = 0 THEN 0
                        ELSE exported_day * export_day_price + exported_night * export_night_price
                   END AS export_eur,
                   gas_m3 * gas * vat AS gas_eur,
                   CASE WHEN self_consumed = 0 THEN 0
                        WHEN grid = 0 THEN self_consumed * import_day_price * vat
                        ELSE self_consumed * vat * ((imported_day + exported_day) * import_day_price
                                                    + (imported_night + exported_night) * import_night_price) / grid
                   END AS solar_saving_eur
            FROM priced
        )
        SELECT count(*) AS hours,
               CASE WHEN count(import_eur) = count(*) THEN sum(import_eur) END AS import_eur,
               CASE WHEN count(export_eur) = count(*) THEN sum(export_eur) END AS export_eur,
               CASE WHEN count(gas_eur) = count(*) THEN sum(gas_eur) END AS gas_eur,
               CASE WHEN count(solar_saving_eur) = count(*) THEN sum(solar_saving_eur) END AS solar_saving_eur
        FROM hours
    ) e
    WHERE p.covered AND e.hours > 0
),
rounded AS (
    SELECT level, period_start, timezone(zone, period_start) AS local_start,
           round(import_eur::numeric, 2) AS import_eur, round(export_eur::numeric, 2) AS export_eur,
           round(gas_eur::numeric, 2) AS gas_eur, round(capacity_eur::numeric, 2) AS capacity_eur,
           round(fixed_eur::numeric, 2) AS fixed_eur, round(solar_saving_eur::numeric, 2) AS solar_saving_eur
    FROM amounts
)
SELECT level, period_start, local_start, import_eur, export_eur, gas_eur, capacity_eur, fixed_eur,
       import_eur - export_eur + coalesce(gas_eur, 0) + coalesce(capacity_eur, 0) + fixed_eur AS total_eur,
       solar_saving_eur
FROM rounded;
