-- Today's quarter-hour demand profile on a fixed axis (96 quarters; 92 or 100 on a DST day): per quarter the
-- meter's own average demand (1-0:1.4.0 at the quarter's last telegram), else the time-weighted average of the
-- power drawn from the grid; NULL where nothing was measured. complete: the quarter has ended.
CREATE OR REPLACE VIEW energy.demand_today AS
WITH today AS (
    SELECT date_trunc('day', now(), s.time_zone) AS start,
           energy.period_end(date_trunc('day', now(), s.time_zone), 'day', s.time_zone) AS after
    FROM energy.settings s
),
measured AS MATERIALIZED (  -- once, not once per quarter of the axis
    SELECT q.period_start, max(q.last) FILTER (WHERE q.metric = 'demand_avg_quarter') AS meter_w,
           max(q.avg) FILTER (WHERE q.metric = 'power_import') AS power_w
    FROM energy.quarterly q
    WHERE q.source = 'dsmr' AND q.metric IN ('demand_avg_quarter', 'power_import')
      -- bounds as values (not a join), so that they reach the index of the stored quarters
      AND q.period_start >= (SELECT t.start FROM today t) AND q.period_start < (SELECT t.after FROM today t)
    GROUP BY q.period_start
)
SELECT a.start AS period_start, a.start + interval '15 minutes' AS period_end,
       round(coalesce(m.meter_w, m.power_w)::numeric) AS demand_w, a.start + interval '15 minutes' <= now() AS complete
FROM today t
CROSS JOIN generate_series(t.start, t.after - interval '15 minutes', interval '15 minutes') a (start)
LEFT JOIN measured m ON m.period_start = a.start;
