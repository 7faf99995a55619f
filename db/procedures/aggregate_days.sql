-- Aggregates every complete local day not yet done, redoes those whose hours changed, then cleans old raw data.
CREATE OR REPLACE PROCEDURE energy.aggregate_days(p_now timestamptz DEFAULT now())
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    CALL energy.refresh_level('day', p_now);
    CALL energy.cleanup_raw(p_now);
END
$$;
