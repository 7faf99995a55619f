-- Derives the flows (source 'flow': produced, imported_t1/t2, exported_t1/t2, gas) of the hours in [p_from, p_to)
-- from the stored hours: per hour and group of flows, the first source in energy.flow_rule with data wins, so no
-- energy is ever counted from two sources, and days, weeks and months are sums of these hours.
CREATE OR REPLACE PROCEDURE energy.derive_flows(p_from timestamptz, p_to timestamptz)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM energy.agg_hour a USING energy.metric m
    WHERE m.id = a.metric_id AND m.source = 'flow' AND a.period_start >= p_from AND a.period_start < p_to;
    INSERT INTO energy.agg_hour (metric_id, period_start, period_end, n, sum, avg, min, max, first, last,
                                 first_ts, last_ts, delta, estimated)
    SELECT f.id, c.period_start, c.period_start + interval '1 hour', 1, c.delta, c.delta, c.delta, c.delta, c.delta,
           c.delta, c.period_start, c.period_start, c.delta, c.estimated
    FROM energy.hour_flows(p_from, p_to) c
    JOIN energy.metric f ON f.source = 'flow' AND f.name = c.flow;
END
$$;
