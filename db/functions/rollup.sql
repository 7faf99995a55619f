-- Aggregates the rows of a finer level (p_source_level: 'hour', 'day', or 'hour_live' for the stored and running
-- hours) whose period starts in [p_from, p_to), per metric and local p_unit ('day', 'week', 'month'), as of
-- p_as_of (a running period's readings hold until then). n, sum, min, max add up; first and last are the earliest
-- and latest readings; deltas add up; avg is time-weighted: each child's average over its own span plus the
-- previous child's last value held over the time before the child's first reading (and the last one's until the
-- period's end), divided by the time from the period's first reading to its end. Reads energy.agg_all only: no caller chooses what it reads.
CREATE OR REPLACE FUNCTION energy.rollup(
    p_source_level text, p_unit text, p_from timestamptz, p_to timestamptz, p_tz text,
    p_as_of timestamptz DEFAULT 'infinity')
RETURNS TABLE (
    metric_id integer, period_start timestamptz, period_end timestamptz, n bigint,
    sum double precision, avg double precision, min double precision, max double precision,
    first double precision, last double precision, first_ts timestamptz, last_ts timestamptz,
    delta double precision, estimated boolean
)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH child AS (
        SELECT c.*, p.parent, least(energy.period_end(p.parent, p_unit, p_tz), p_as_of) AS parent_end
        FROM energy.agg_all c
        CROSS JOIN LATERAL (SELECT date_trunc(p_unit, c.period_start, p_tz) AS parent) p
        WHERE (c.level = p_source_level OR (p_source_level = 'hour_live' AND c.level IN ('hour', 'running')))
          AND c.period_start >= p_from AND c.period_start < p_to
    ),
    timed AS (
        SELECT c.metric_id, c.parent,
               sum(c.avg * c.seconds + coalesce(c.carry, 0) + coalesce(c.tail, 0)) AS integral,
               (array_agg(c.first ORDER BY c.period_start))[1] AS first,
               (array_agg(c.last ORDER BY c.period_start DESC))[1] AS last
        FROM (
            SELECT c.*, extract(epoch FROM least(c.period_end, p_as_of) - c.first_ts) AS seconds,
                   lag(c.last) OVER w * extract(epoch FROM c.first_ts - lag(least(c.period_end, p_as_of)) OVER w)
                       AS carry,
                   CASE WHEN lead(c.period_start) OVER w IS NULL
                        THEN c.last * extract(epoch FROM c.parent_end - least(c.period_end, p_as_of)) END AS tail
            FROM child c WHERE c.n > 0
            WINDOW w AS (PARTITION BY c.metric_id, c.parent ORDER BY c.period_start)
        ) c
        GROUP BY c.metric_id, c.parent
    )
    SELECT c.metric_id, c.parent, energy.period_end(c.parent, p_unit, p_tz), sum(c.n)::bigint, sum(c.sum),
           coalesce(t.integral / nullif(extract(epoch FROM min(c.parent_end) - min(c.first_ts)), 0),
                    sum(c.sum) / nullif(sum(c.n), 0)),
           min(c.min), max(c.max), t.first, t.last, min(c.first_ts), max(c.last_ts), sum(c.delta), bool_or(c.estimated)
    FROM child c
    LEFT JOIN timed t ON t.metric_id = c.metric_id AND t.parent = c.parent
    GROUP BY c.metric_id, c.parent, t.integral, t.first, t.last
$$;
