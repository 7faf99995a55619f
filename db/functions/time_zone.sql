-- The time zone of the calendar that periods follow (energy.settings); one place to read it from.
CREATE OR REPLACE FUNCTION energy.time_zone()
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT time_zone FROM energy.settings $$;
