-- Runs the whole chain in order: partitions ahead, hours, days, weeks, months, then the raw cleanup, committing
-- between the steps that lock the raw table so that writers wait only for an instant (CALL it outside a
-- transaction block). No SET clause: a procedure with one may not commit; every name here is qualified.
CREATE OR REPLACE PROCEDURE energy.run_aggregations(p_now timestamptz DEFAULT now())
LANGUAGE plpgsql
AS $$
BEGIN
    CALL energy.create_raw_partitions(p_now);
    COMMIT;
    CALL energy.aggregate_hours(p_now);
    CALL energy.aggregate_days(p_now);
    CALL energy.aggregate_weeks(p_now);
    CALL energy.aggregate_months(p_now);
    COMMIT;
    CALL energy.cleanup_raw(p_now);
END
$$;
