-- What the energy of each period cost, in EUR incl. VAT, for the periods of energy.flows (level hour, day, week,
-- month, and today so far) that a contract of energy.tariff covers from their first day: no contract, no row.
-- import_eur: the imported energy; export_eur: what the exported energy earned; gas_eur: the gas (NULL without a
-- gas price); capacity_eur and fixed_eur: the period's share of the capacity tariff and of the fixed fees (the sum
-- of its days' shares, energy.daily_fees; an hour's is its day's divided by the day's 23, 24 or 25 hours; today's
-- is the whole day's); total_eur: what the household pays, import - export + gas + capacity + fixed (gas and
-- capacity left out when NULL); solar_saving_eur: what the self-consumed solar energy would have cost if imported.
-- Every amount is the sum of its hours (energy.hour_costs), rounded to the cent; NULL when an hour lacks a market
-- price. A filter on level and period_start reaches the aggregates' primary keys: a period's hours are read by range.
CREATE OR REPLACE VIEW energy.costs AS
WITH stored AS (
    SELECT DISTINCT a.level, a.period_start, a.period_end
    FROM energy.agg_all a
    WHERE a.level IN ('hour', 'day', 'week', 'month')
      AND a.metric_id = ANY (ARRAY(SELECT id FROM energy.metric WHERE source = 'flow'))
    UNION ALL
    SELECT 'today', d.midnight, energy.period_end(d.midnight, 'day', d.zone)
    FROM (SELECT date_trunc('day', now(), z.zone) AS midnight, z.zone
          FROM (SELECT (SELECT time_zone FROM energy.settings) AS zone) z) d
),
periods AS (
    SELECT p.*, z.zone, date_trunc('day', timezone(z.zone, p.period_start)) AS first_day,
           timezone(z.zone, p.period_end) AS local_end,
           -- an hour owes its share of its day's fees: one of the day's 23, 24 or 25 hours
           CASE WHEN p.level = 'hour'
                THEN 3600 / extract(epoch FROM energy.period_end(date_trunc('day', p.period_start, z.zone), 'day',
                                                                 z.zone) - date_trunc('day', p.period_start, z.zone))
                ELSE 1 END AS share
    FROM stored p
    CROSS JOIN (SELECT (SELECT time_zone FROM energy.settings) AS zone) z
),
fees AS (
    SELECT p.level, p.period_start, p.period_end, p.zone, bool_and(f.day IS NOT NULL) AS covered,
           CASE WHEN count(f.capacity_eur) = count(*) THEN sum(f.capacity_eur) * p.share END AS capacity_eur,
           sum(f.fixed_eur) * p.share AS fixed_eur
    FROM periods p
    -- a period spans at most 31 local days (a constant series: the planner knows how many rows it gives)
    JOIN generate_series(0, 30) n(days) ON p.first_day + n.days * interval '1 day' < p.local_end
    LEFT JOIN energy.daily_fees f ON f.day = (p.first_day + n.days * interval '1 day')::date
    GROUP BY p.level, p.period_start, p.period_end, p.zone, p.share
),
amounts AS (
    SELECT p.level, p.period_start, timezone(p.zone, p.period_start) AS local_start,
           round(e.import_eur::numeric, 2) AS import_eur, round(e.export_eur::numeric, 2) AS export_eur,
           round(e.gas_eur::numeric, 2) AS gas_eur, round(p.capacity_eur, 2) AS capacity_eur,
           round(p.fixed_eur, 2) AS fixed_eur, round(e.solar_saving_eur::numeric, 2) AS solar_saving_eur
    FROM fees p
    CROSS JOIN LATERAL (
        SELECT count(*) AS hours,
               CASE WHEN count(h.import_eur) = count(*) THEN sum(h.import_eur) END AS import_eur,
               CASE WHEN count(h.export_eur) = count(*) THEN sum(h.export_eur) END AS export_eur,
               CASE WHEN count(h.gas_eur) = count(*) THEN sum(h.gas_eur) END AS gas_eur,
               CASE WHEN count(h.solar_saving_eur) = count(*) THEN sum(h.solar_saving_eur) END AS solar_saving_eur
        FROM energy.hour_costs h
        WHERE h.period_start >= p.period_start AND h.period_start < p.period_end
          AND (h.level = 'hour' OR p.level = 'today')
    ) e
    WHERE p.covered AND e.hours > 0
)
SELECT level, period_start, local_start, import_eur, export_eur, gas_eur, capacity_eur, fixed_eur,
       import_eur - export_eur + coalesce(gas_eur, 0) + coalesce(capacity_eur, 0) + fixed_eur AS total_eur,
       solar_saving_eur
FROM amounts;
