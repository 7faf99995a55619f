-- The live power flow: solar production (the inverter, or the cloud when there is no inverter reading),
-- grid import and export, house consumption (solar + import - export), and production as a share of the
-- inverter's rated power; the flows between them for the diagram (solar to the house and to the grid, the grid to
-- the house), and the battery when the inverter has one (power, positive while charging, and state of charge).
CREATE OR REPLACE VIEW energy.power_flow AS
WITH latest AS (
    SELECT source, metric, value, ts FROM energy.latest
),
solar AS (
    SELECT value, ts FROM latest
    WHERE metric = 'power_active' AND source IN ('sun2000', 'fusionsolar')
    ORDER BY source = 'sun2000' DESC, ts DESC LIMIT 1
),
grid AS (
    SELECT max(value) FILTER (WHERE metric = 'power_import') AS import_w,
           max(value) FILTER (WHERE metric = 'power_export') AS export_w,
           max(ts) FILTER (WHERE metric = 'power_import') AS ts
    FROM latest WHERE source = 'dsmr'
),
rated AS (
    SELECT value FROM latest WHERE source = 'sun2000' AND metric = 'rated_power'
),
battery AS (
    SELECT max(value) FILTER (WHERE metric = 'battery_power') AS power_w,
           max(value) FILTER (WHERE metric = 'battery_soc') AS soc_pct
    FROM latest WHERE source = 'sun2000' AND metric IN ('battery_power', 'battery_soc')
)
SELECT p.solar_w, grid.import_w, grid.export_w,
       -- greatest() skips NULLs: a missing grid reading must give no consumption, not zero
       CASE WHEN grid.import_w IS NOT NULL THEN greatest(coalesce(p.solar_w, 0) + grid.import_w - grid.export_w, 0)
       END AS consumption_w,
       round((100 * p.solar_w / nullif(rated.value, 0))::numeric, 1) AS solar_share_pct,
       rated.value AS rated_w, solar.ts AS solar_at, grid.ts AS grid_at,
       CASE WHEN p.solar_w IS NOT NULL THEN greatest(p.solar_w - coalesce(grid.export_w, 0), 0) END AS solar_to_home_w,
       CASE WHEN p.solar_w IS NOT NULL THEN least(p.solar_w, coalesce(grid.export_w, 0)) END AS solar_to_grid_w,
       grid.import_w AS grid_to_home_w,
       battery.power_w AS battery_w, battery.soc_pct AS battery_soc_pct
FROM grid
LEFT JOIN solar ON true
LEFT JOIN rated ON true
CROSS JOIN battery
CROSS JOIN LATERAL (SELECT CASE WHEN solar.value IS NOT NULL THEN greatest(solar.value, 0) END AS solar_w) p;
