-- Aggregates every complete local day not yet done, and redoes those whose hours changed.
CREATE OR REPLACE PROCEDURE energy.aggregate_days(p_now timestamptz DEFAULT now())
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    CALL energy.refresh_level('day', p_now);
END
$$;
