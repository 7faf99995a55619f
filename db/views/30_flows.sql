-- Energy per period and flow: produced, imported, exported, consumed (kWh), self-consumption (share of the
-- production used at home) and self-sufficiency (share of the consumption covered by the panels), and gas (m3).
-- level is hour, day, week, month, or today (so far).
CREATE OR REPLACE VIEW energy.flows AS
WITH deltas AS (
    SELECT level, period_start, local_start, source, metric, delta FROM energy.aggregates WHERE delta IS NOT NULL
    UNION ALL
    SELECT 'today', t.period_start, timezone(s.time_zone, t.period_start), t.source, t.metric, t.delta
    FROM energy.today t CROSS JOIN energy.settings s WHERE t.delta IS NOT NULL
),
pivot AS (
    SELECT level, period_start, local_start,
           coalesce(sum(delta) FILTER (WHERE source = 'sun2000' AND metric = 'energy_yield_total'),
                    sum(delta) FILTER (WHERE source = 'fusionsolar' AND metric = 'energy_yield_total'), 0) AS produced,
           coalesce(sum(delta) FILTER (WHERE source = 'dsmr' AND metric IN ('energy_import_t1', 'energy_import_t2')), 0)
               AS imported,
           coalesce(sum(delta) FILTER (WHERE source = 'dsmr' AND metric IN ('energy_export_t1', 'energy_export_t2')), 0)
               AS exported,
           sum(delta) FILTER (WHERE source = 'dsmr' AND metric = 'gas_volume') AS gas_m3
    FROM deltas
    GROUP BY level, period_start, local_start
)
SELECT level, period_start, local_start,
       round(produced::numeric, 3) AS produced_kwh, round(imported::numeric, 3) AS imported_kwh,
       round(exported::numeric, 3) AS exported_kwh,
       round(greatest(produced + imported - exported, 0)::numeric, 3) AS consumed_kwh,
       round((100 * greatest(produced - exported, 0) / nullif(produced, 0))::numeric, 1) AS self_consumption_pct,
       round((100 * greatest(produced - exported, 0) / nullif(produced + imported - exported, 0))::numeric, 1)
           AS self_sufficiency_pct,
       round(gas_m3::numeric, 3) AS gas_m3
FROM pivot;
