-- energy.history with the period each row is compared with, and that period's main figures: for hours the same hour
-- yesterday, for days the same day of the month last year, for weeks the same ISO week last year, for months and
-- years the one a year earlier. No comparison where that period does not exist (29 February, week 53); where two
-- match (the two 02:00 hours of an autumn DST day) the first one.
CREATE OR REPLACE FUNCTION energy.history_compared(p_level text, p_from date, p_to date)
RETURNS TABLE (
    level text, period_start timestamptz, period_end timestamptz, local_start timestamp, complete boolean,
    produced_kwh numeric, imported_kwh numeric, imported_day_kwh numeric, imported_night_kwh numeric,
    exported_kwh numeric, exported_day_kwh numeric, exported_night_kwh numeric, consumed_kwh numeric,
    self_consumption_pct numeric, self_sufficiency_pct numeric, gas_m3 numeric, estimated boolean,
    previous_local_start timestamp, previous_produced_kwh numeric, previous_imported_kwh numeric,
    previous_exported_kwh numeric, previous_consumed_kwh numeric, previous_gas_m3 numeric
)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH current AS (
        SELECT h.*, CASE p_level
                        WHEN 'hour' THEN h.local_start - interval '1 day'
                        -- PostgreSQL turns 29 February into the 28th a year earlier: no comparison
                        WHEN 'day' THEN CASE WHEN extract(day FROM h.local_start - interval '1 year')
                                                  = extract(day FROM h.local_start)
                                             THEN h.local_start - interval '1 year' END
                        -- week 53 of a year whose previous year has 52 weeks would become week 1: no comparison
                        WHEN 'week' THEN CASE WHEN to_char(w.monday, 'IW') = to_char(h.local_start, 'IW')
                                              THEN w.monday END
                        ELSE h.local_start - interval '1 year'
                    END AS previous_local_start
        FROM energy.history(p_level, p_from, p_to) h
        -- the Monday of the same ISO week number in the previous ISO year
        CROSS JOIN LATERAL (
            SELECT to_date(to_char(h.local_start, 'IYYY')::int - 1 || '-' || to_char(h.local_start, 'IW') || '-1',
                           'IYYY-IW-ID')::timestamp AS monday
        ) w
    ),
    window_of_previous AS (
        SELECT min(c.previous_local_start)::date AS first_day, max(c.previous_local_start)::date + 1 AS after_day
        FROM current c
    ),
    -- computed once, not once per row it is joined to
    previous AS MATERIALIZED (
        SELECT p.* FROM window_of_previous b CROSS JOIN LATERAL energy.history(p_level, b.first_day, b.after_day) p
        WHERE b.first_day IS NOT NULL
    )
    SELECT c.level, c.period_start, c.period_end, c.local_start, c.complete, c.produced_kwh, c.imported_kwh,
           c.imported_day_kwh, c.imported_night_kwh, c.exported_kwh, c.exported_day_kwh, c.exported_night_kwh,
           c.consumed_kwh, c.self_consumption_pct, c.self_sufficiency_pct, c.gas_m3, c.estimated,
           c.previous_local_start, p.produced_kwh, p.imported_kwh, p.exported_kwh, p.consumed_kwh, p.gas_m3
    FROM current c
    LEFT JOIN LATERAL (
        SELECT * FROM previous p WHERE p.local_start = c.previous_local_start ORDER BY p.period_start LIMIT 1
    ) p ON true
    ORDER BY c.period_start
$$;
