-- Per quarterly metric (energy.metric.quarterly) and quarter hour, the aggregates of the raw readings in
-- [p_from, p_to), as of p_to: n, sum, min, max, first, last, and avg weighted by time (each reading holds until the
-- next one in its quarter, or the quarter's end, or p_to for the running quarter, from the quarter's first reading).
-- Quarters are aligned on UTC quarter hours, which are local quarter hours in every time zone in use (all UTC
-- offsets are whole quarters of an hour). SECURITY DEFINER (owned by energy_engine, which may only read) so that
-- energy.quarterly can show the quarters of the running hour.
CREATE OR REPLACE FUNCTION energy.quarter_aggregates(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (
    metric_id integer, period_start timestamptz, period_end timestamptz, n bigint,
    sum double precision, avg double precision, min double precision, max double precision,
    first double precision, last double precision, first_ts timestamptz, last_ts timestamptz
)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH quartered AS (
        SELECT r.metric_id, r.ts, r.value, date_bin('15 minutes', r.ts, timestamptz '2000-01-01 00:00+00') AS quarter
        FROM energy.raw_reading r
        JOIN energy.metric m ON m.id = r.metric_id
        WHERE m.quarterly AND r.ts >= p_from AND r.ts < p_to
    ),
    held AS (
        SELECT q.*, extract(epoch FROM coalesce(lead(q.ts) OVER w, least(q.quarter + interval '15 minutes', p_to))
                                       - q.ts) AS seconds
        FROM quartered q
        WINDOW w AS (PARTITION BY q.metric_id, q.quarter ORDER BY q.ts)
    )
    SELECT h.metric_id, h.quarter, h.quarter + interval '15 minutes', count(*), sum(h.value),
           coalesce(sum(h.value * h.seconds) / nullif(sum(h.seconds), 0), avg(h.value)),
           min(h.value), max(h.value),
           (array_agg(h.value ORDER BY h.ts))[1], (array_agg(h.value ORDER BY h.ts DESC))[1], min(h.ts), max(h.ts)
    FROM held h
    GROUP BY h.metric_id, h.quarter
$$;
