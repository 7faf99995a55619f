-- Energy per period of p_level ('hour', 'day', 'week', 'month' or 'year') for every period that starts in the local
-- dates [p_from, p_to), on a fixed axis: every period has its row (a DST day 23 or 25 hours, a month all its days),
-- with NULL figures where nothing was measured. Figures as energy.flows (one figure per flow, the same rounding).
-- A period is complete when it is stored at its level (years: when their months are); the others, the running one
-- and any the jobs have not reached, add up the finer periods that are stored (days, then hours) and the hours not
-- aggregated yet, computed from raw readings as of now, as energy.today does: the running day equals "today so far".
-- Those hours are only computed when the window reaches them. Reads views only, so energy_web may call it.
CREATE OR REPLACE FUNCTION energy.history(p_level text, p_from date, p_to date)
RETURNS TABLE (
    level text, period_start timestamptz, period_end timestamptz, local_start timestamp, complete boolean,
    produced_kwh numeric, imported_kwh numeric, imported_day_kwh numeric, imported_night_kwh numeric,
    exported_kwh numeric, exported_day_kwh numeric, exported_night_kwh numeric, consumed_kwh numeric,
    self_consumption_pct numeric, self_sufficiency_pct numeric, gas_m3 numeric, estimated boolean
)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tz text := energy.time_zone();
    -- the level whose stored periods are complete ones of p_level: itself, or months for years
    v_stored text := CASE p_level WHEN 'year' THEN 'month' ELSE p_level END;
    v_start timestamptz;
    v_end timestamptz;
    v_done_hour timestamptz;
    v_done_day timestamptz;
    v_done_level timestamptz;
BEGIN
    IF p_level IS NULL OR p_level NOT IN ('hour', 'day', 'week', 'month', 'year') THEN
        RAISE EXCEPTION 'unknown history level %', p_level USING HINT = 'Use hour, day, week, month or year.';
    END IF;
    v_start := timezone(v_tz, date_trunc(p_level, p_from::timestamp));
    v_end := timezone(v_tz, p_to::timestamp);
    SELECT coalesce(max(s.done_until) FILTER (WHERE s.level = 'hour'), '-infinity'),
           coalesce(max(s.done_until) FILTER (WHERE s.level = 'day'), '-infinity'),
           coalesce(max(s.done_until) FILTER (WHERE s.level = v_stored), '-infinity')
    INTO v_done_hour, v_done_day, v_done_level
    FROM energy.aggregation_status s;

    RETURN QUERY
    WITH axis AS (
        SELECT a.start AS period_start, energy.period_end(a.start, p_level, v_tz) AS period_end
        FROM generate_series(v_start, v_end - interval '1 hour', interval '1 hour') a (start)
        WHERE p_level = 'hour'
        UNION ALL
        SELECT timezone(v_tz, a.local), timezone(v_tz, a.local + ('1 ' || p_level)::interval)
        FROM generate_series(timezone(v_tz, v_start), timezone(v_tz, v_end) - interval '1 second',
                             ('1 ' || p_level)::interval) a (local)
        WHERE p_level <> 'hour'
    ),
    pieces AS (
        -- complete periods, stored at their level (years: their months)
        SELECT a.period_start, a.metric AS flow, a.delta, a.estimated
        FROM energy.aggregates a
        WHERE a.level = v_stored AND a.source = 'flow'
          AND a.period_start >= v_start AND a.period_start < least(v_end, v_done_level)
        UNION ALL
        -- the stored days of weeks, months and years not stored yet
        SELECT a.period_start, a.metric, a.delta, a.estimated
        FROM energy.aggregates a
        WHERE p_level IN ('week', 'month', 'year') AND a.level = 'day' AND a.source = 'flow'
          AND a.period_start >= greatest(v_start, v_done_level) AND a.period_start < least(v_end, v_done_day)
        UNION ALL
        -- the stored hours of days not stored yet
        SELECT a.period_start, a.metric, a.delta, a.estimated
        FROM energy.aggregates a
        WHERE p_level <> 'hour' AND a.level = 'hour' AND a.source = 'flow'
          AND a.period_start >= greatest(v_start, v_done_level, v_done_day)
          AND a.period_start < least(v_end, v_done_hour)
        UNION ALL
        -- the hours not aggregated yet (the running one), from raw readings as of now, and the shares of stored
        -- hours in a counter step into them
        SELECT f.period_start, f.flow, f.delta, f.estimated
        FROM energy.hour_flows(v_start, v_end, true) f
        WHERE v_end > v_done_hour
    ),
    per_period AS (
        SELECT date_trunc(p_level, p.period_start, v_tz) AS period_start,
               coalesce(sum(p.delta) FILTER (WHERE p.flow = 'produced'), 0) AS produced,
               coalesce(sum(p.delta) FILTER (WHERE p.flow = 'imported_t1'), 0) AS imported_t1,
               coalesce(sum(p.delta) FILTER (WHERE p.flow = 'imported_t2'), 0) AS imported_t2,
               coalesce(sum(p.delta) FILTER (WHERE p.flow = 'exported_t1'), 0) AS exported_t1,
               coalesce(sum(p.delta) FILTER (WHERE p.flow = 'exported_t2'), 0) AS exported_t2,
               sum(p.delta) FILTER (WHERE p.flow = 'gas') AS gas,
               bool_or(p.estimated) AS estimated
        FROM pieces p
        GROUP BY 1
    ),
    totals AS (
        SELECT p.*, p.imported_t1 + p.imported_t2 AS imported, p.exported_t1 + p.exported_t2 AS exported,
               -- as energy.flows adds them up, to the last bit
               p.produced + (p.imported_t1 + p.imported_t2) - (p.exported_t1 + p.exported_t2) AS consumed
        FROM per_period p
    )
    SELECT p_level, x.period_start, x.period_end, timezone(v_tz, x.period_start), x.period_end <= v_done_level,
           round(t.produced::numeric, 3), round(t.imported::numeric, 3),
           round(t.imported_t1::numeric, 3), round(t.imported_t2::numeric, 3),
           round(t.exported::numeric, 3), round(t.exported_t1::numeric, 3), round(t.exported_t2::numeric, 3),
           -- greatest() skips NULLs: a period without data has no consumption, not zero
           round(CASE WHEN t.period_start IS NOT NULL THEN greatest(t.consumed, 0) END::numeric, 3),
           round((100 * greatest(t.produced - t.exported, 0) / nullif(t.produced, 0))::numeric, 1),
           round((100 * greatest(t.produced - t.exported, 0) / nullif(t.consumed, 0))::numeric, 1),
           round(t.gas::numeric, 3), t.estimated
    FROM axis x
    LEFT JOIN totals t ON t.period_start = x.period_start
    ORDER BY x.period_start;
END
$$;
