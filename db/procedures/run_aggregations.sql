-- Runs the whole chain in order: partitions ahead, hours, days (with the raw cleanup), weeks, months.
CREATE OR REPLACE PROCEDURE energy.run_aggregations(p_now timestamptz DEFAULT now())
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    CALL energy.create_raw_partitions(p_now);
    CALL energy.aggregate_hours(p_now);
    CALL energy.aggregate_days(p_now);
    CALL energy.aggregate_weeks(p_now);
    CALL energy.aggregate_months(p_now);
END
$$;
