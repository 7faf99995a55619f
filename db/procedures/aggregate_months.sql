-- Aggregates every complete local month not yet done, and redoes those whose source periods changed.
CREATE OR REPLACE PROCEDURE energy.aggregate_months(p_now timestamptz DEFAULT now())
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    CALL energy.refresh_level('month', p_now);
END
$$;
