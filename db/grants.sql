-- Privileges of the application roles, re-applied on every deploy: energy_ingest may only add raw readings
-- (and read the catalog to name them); energy_web may only read the views. Neither owns anything.
REVOKE ALL ON ALL TABLES IN SCHEMA energy FROM energy_ingest, energy_web;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA energy FROM PUBLIC, energy_ingest, energy_web;
REVOKE ALL ON ALL PROCEDURES IN SCHEMA energy FROM PUBLIC, energy_ingest, energy_web;
GRANT USAGE ON SCHEMA energy TO energy_ingest, energy_web;

GRANT SELECT ON energy.metric TO energy_ingest;
GRANT INSERT ON energy.raw_reading TO energy_ingest;

-- Views read their tables with the owner's rights; the functions they call are SECURITY DEFINER.
DO $$
DECLARE
    v_view regclass;
BEGIN
    FOR v_view IN SELECT c.oid::regclass FROM pg_class c
                  WHERE c.relnamespace = 'energy'::regnamespace AND c.relkind = 'v' LOOP
        EXECUTE format('GRANT SELECT ON %s TO energy_web', v_view);
    END LOOP;
END
$$;
GRANT EXECUTE ON FUNCTION energy.time_zone(), energy.period_end(timestamptz, text, text),
    energy.hour_aggregates(timestamptz, timestamptz, text),
    energy.rollup(regclass, text, timestamptz, timestamptz, text) TO energy_web;
