-- Aggregates every complete local week not yet done, and redoes those whose source periods changed.
CREATE OR REPLACE PROCEDURE energy.aggregate_weeks(p_now timestamptz DEFAULT now())
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    CALL energy.refresh_level('week', p_now);
END
$$;
