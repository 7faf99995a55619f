-- The last ten minutes of power in 10-second steps, for the live chart.
CREATE OR REPLACE VIEW energy.recent_power AS
WITH steps AS (
    SELECT date_bin('10 seconds', r.ts, timestamptz '2000-01-01') AS ts, m.source, m.name, avg(r.value) AS value
    FROM energy.raw_reading r
    JOIN energy.metric m ON m.id = r.metric_id
    WHERE r.ts > now() - interval '10 minutes' AND r.ts <= now()
      AND (m.source, m.name) IN (('dsmr', 'power_import'), ('dsmr', 'power_export'), ('sun2000', 'power_active'),
                                 ('fusionsolar', 'power_active'))
    GROUP BY 1, 2, 3
)
SELECT ts,
       greatest(coalesce(max(value) FILTER (WHERE source = 'sun2000'), max(value) FILTER (WHERE source = 'fusionsolar')),
                0) AS solar_w,
       max(value) FILTER (WHERE name = 'power_import') AS import_w,
       max(value) FILTER (WHERE name = 'power_export') AS export_w
FROM steps
GROUP BY ts;
