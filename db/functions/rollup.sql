-- Aggregates of the rows of a finer level (p_source: energy.agg_hour or energy.agg_day) whose period starts in
-- [p_from, p_to), per metric and local p_unit ('day', 'week', 'month'); avg is weighted by n, deltas add up.
CREATE OR REPLACE FUNCTION energy.rollup(p_source regclass, p_unit text, p_from timestamptz, p_to timestamptz, p_tz text)
RETURNS SETOF energy.agg_hour
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        SELECT metric_id, p.start, energy.period_end(p.start, %L, $3), sum(n)::bigint,
               sum(sum), sum(sum) / sum(n), min(min), max(max),
               (array_agg(first ORDER BY period_start))[1], (array_agg(last ORDER BY period_start DESC))[1],
               min(first_ts), max(last_ts), sum(delta)
        FROM %s CROSS JOIN LATERAL (SELECT date_trunc(%L, period_start, $3) AS start) p
        WHERE period_start >= $1 AND period_start < $2
        GROUP BY metric_id, p.start
    $q$, p_unit, p_source, p_unit)
    USING p_from, p_to, p_tz;
END
$$;
