-- Per metric and local hour, the aggregates of the raw readings in [p_from, p_to), as of p_to (a running hour's
-- readings hold until p_to, a complete hour's until its end). Columns as energy.agg_hour, plus for counters what
-- energy.counter_hour keeps. For a counter, delta here is the rise within the hour plus the hour's own share of the
-- step into it; energy.spread_counter_steps later gives every hour its share of steps that span several hours.
-- Amounts (kind 'amount') are energy per interval: their delta is their sum.
-- SECURITY DEFINER (owned by energy_engine, which may only read) so that the views can show the running hour.
CREATE OR REPLACE FUNCTION energy.hour_aggregates(p_from timestamptz, p_to timestamptz, p_tz text)
RETURNS TABLE (
    metric_id integer, period_start timestamptz, period_end timestamptz, n bigint,
    sum double precision, avg double precision, min double precision, max double precision,
    first double precision, last double precision, first_ts timestamptz, last_ts timestamptz,
    delta double precision, estimated boolean,
    rise double precision, gap_in double precision, gap_from timestamptz, gap_to timestamptz, gap_value double precision,
    hwm double precision, hwm_ts timestamptz, low_since timestamptz, low_first double precision, simple boolean
)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET work_mem = '64MB'  -- sorts a day of readings (2.6 million rows at 30 metrics) in memory
AS $$
BEGIN
    RETURN QUERY
    WITH hourly AS (
        SELECT r.metric_id, r.ts, r.value, date_trunc('hour', r.ts, p_tz) AS hour
        FROM energy.raw_reading r
        WHERE r.ts >= p_from AND r.ts < p_to
          AND r.metric_id NOT IN (SELECT id FROM energy.metric WHERE source = 'flow')  -- derived, never read
    ),
    -- Each reading holds until the next one in its hour, or the hour's end (or p_to, for the running hour).
    held AS (
        SELECT h.*, extract(epoch FROM coalesce(lead(h.ts) OVER w, least(h.hour + interval '1 hour', p_to)) - h.ts)
                    AS seconds
        FROM hourly h
        WINDOW w AS (PARTITION BY h.metric_id, h.hour ORDER BY h.ts)
    ),
    stats AS (
        SELECT h.metric_id, h.hour, count(*) AS n, sum(h.value) AS sum,
               coalesce(sum(h.value * h.seconds) / nullif(sum(h.seconds), 0), avg(h.value)) AS avg,
               min(h.value) AS min, max(h.value) AS max,
               (array_agg(h.value ORDER BY h.ts))[1] AS first, (array_agg(h.value ORDER BY h.ts DESC))[1] AS last,
               min(h.ts) AS first_ts, max(h.ts) AS last_ts
        FROM held h
        GROUP BY h.metric_id, h.hour
    )
    SELECT s.metric_id, s.hour, s.hour + interval '1 hour', s.n, s.sum, s.avg, s.min, s.max, s.first, s.last,
           s.first_ts, s.last_ts,
           CASE m.kind
               WHEN 'amount' THEN s.sum
               WHEN 'counter' THEN c.rise + c.gap_in * coalesce(
                   extract(epoch FROM c.gap_to - greatest(s.hour, c.gap_from))
                   / nullif(extract(epoch FROM c.gap_to - c.gap_from), 0), 0)
           END,
           false,
           c.rise, c.gap_in, c.gap_from, c.gap_to, c.gap_value, c.hwm, c.hwm_ts, c.low_since, c.low_first, c.simple
    FROM stats s
    JOIN energy.metric m ON m.id = s.metric_id
    LEFT JOIN energy.counter_walk(p_from, p_to, p_tz) c ON c.metric_id = s.metric_id AND c.period_start = s.hour;
END
$$;
