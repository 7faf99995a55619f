-- End of the local period that starts at p_start: hours are absolute, days, weeks and months follow the calendar
-- (a day lasts 23, 24 or 25 hours).
CREATE OR REPLACE FUNCTION energy.period_end(p_start timestamptz, p_unit text, p_tz text)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE p_unit
        WHEN 'hour' THEN p_start + interval '1 hour'
        ELSE timezone(p_tz, timezone(p_tz, p_start) + ('1 ' || p_unit)::interval)
    END
$$;
