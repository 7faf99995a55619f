-- Energy per period and flow (kWh), one figure per flow: production from the inverter where it has data, else
-- the cloud; the grid from the live meter where it has data, else the imported portal history (energy.flow_rule),
-- chosen per hour, so days add up to weeks and months. Consumed = produced + imported - exported;
-- self-consumption: share of the production used at home; self-sufficiency: share of the consumption covered by
-- the panels; gas in m3. level is hour, day, week, month, or today (so far). estimated: part of a figure was
-- spread over a gap in the readings.
CREATE OR REPLACE VIEW energy.flows AS
WITH deltas AS (
    SELECT level, period_start, local_start, metric, delta, estimated
    FROM energy.aggregates WHERE source = 'flow'
    UNION ALL
    SELECT 'today', t.period_start, timezone(s.time_zone, t.period_start), t.metric, t.delta, t.estimated
    FROM energy.today t CROSS JOIN energy.settings s WHERE t.source = 'flow'
),
pivot AS (
    SELECT level, period_start, local_start,
           coalesce(sum(delta) FILTER (WHERE metric = 'produced'), 0) AS produced,
           coalesce(sum(delta) FILTER (WHERE metric = 'imported_t1'), 0) AS imported_t1,
           coalesce(sum(delta) FILTER (WHERE metric = 'imported_t2'), 0) AS imported_t2,
           coalesce(sum(delta) FILTER (WHERE metric = 'exported_t1'), 0) AS exported_t1,
           coalesce(sum(delta) FILTER (WHERE metric = 'exported_t2'), 0) AS exported_t2,
           sum(delta) FILTER (WHERE metric = 'gas') AS gas_m3,
           bool_or(estimated) AS estimated
    FROM deltas
    GROUP BY level, period_start, local_start
),
totals AS (
    SELECT p.*, p.imported_t1 + p.imported_t2 AS imported, p.exported_t1 + p.exported_t2 AS exported FROM pivot p
)
SELECT level, period_start, local_start,
       round(produced::numeric, 3) AS produced_kwh, round(imported::numeric, 3) AS imported_kwh,
       round(exported::numeric, 3) AS exported_kwh,
       round(greatest(produced + imported - exported, 0)::numeric, 3) AS consumed_kwh,
       round((100 * greatest(produced - exported, 0) / nullif(produced, 0))::numeric, 1) AS self_consumption_pct,
       round((100 * greatest(produced - exported, 0) / nullif(produced + imported - exported, 0))::numeric, 1)
           AS self_sufficiency_pct,
       round(gas_m3::numeric, 3) AS gas_m3,
       round(imported_t1::numeric, 3) AS imported_day_kwh, round(imported_t2::numeric, 3) AS imported_night_kwh,
       round(exported_t1::numeric, 3) AS exported_day_kwh, round(exported_t2::numeric, 3) AS exported_night_kwh,
       estimated
FROM totals;
