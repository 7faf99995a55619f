-- Privileges, re-applied on every deploy. energy_ingest may only add raw readings and market prices (and read the
-- catalog to name them); energy_web may only read the views. The few SECURITY DEFINER functions (the running hours
-- the views show, the late-reading trigger) belong to energy_engine, a role that cannot log in, is no superuser and
-- may only read the energy tables and note late readings: no function running with more rights than its caller
-- takes a relation name or any SQL text from it.
REVOKE ALL ON ALL TABLES IN SCHEMA energy FROM energy_ingest, energy_web, energy_engine;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA energy FROM PUBLIC, energy_ingest, energy_web, energy_engine;
REVOKE ALL ON ALL PROCEDURES IN SCHEMA energy FROM PUBLIC, energy_ingest, energy_web, energy_engine;
REVOKE ALL ON SCHEMA energy FROM PUBLIC;
GRANT USAGE ON SCHEMA energy TO energy_ingest, energy_web, energy_engine;

GRANT SELECT ON energy.metric TO energy_ingest;
GRANT INSERT ON energy.raw_reading TO energy_ingest;
-- day-ahead prices (python -m ingest.prices): ON CONFLICT DO NOTHING needs no more than INSERT
GRANT INSERT ON energy.market_price TO energy_ingest;

GRANT SELECT ON energy.raw_reading, energy.metric, energy.settings, energy.agg_hour, energy.counter_hour,
    energy.agg_progress, energy.flow_rule, energy.agg_hour_running TO energy_engine;
GRANT SELECT, INSERT ON energy.stale_period TO energy_engine;
GRANT DELETE ON energy.raw_reading TO energy_engine;
GRANT EXECUTE ON FUNCTION energy.counter_step(energy.counter_state, timestamptz, double precision, double precision),
    energy.step_start(energy.counter_state, energy.counter_state), energy.counter_walk(timestamptz, timestamptz, text),
    energy.time_zone() TO energy_engine;

-- The migrating role hands its definer functions to energy_engine (a superuser may do so without membership).
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('GRANT energy_engine TO %I', current_user);
    END IF;
END
$$;
ALTER FUNCTION energy.time_zone() OWNER TO energy_engine;
ALTER FUNCTION energy.hour_aggregates(timestamptz, timestamptz, text) OWNER TO energy_engine;
ALTER FUNCTION energy.hour_flows(timestamptz, timestamptz, boolean) OWNER TO energy_engine;
ALTER FUNCTION energy.quarter_aggregates(timestamptz, timestamptz) OWNER TO energy_engine;
ALTER FUNCTION energy.mark_late_readings() OWNER TO energy_engine;

-- Views read their tables with the owner's rights; the functions they call are granted here.
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
    energy.hour_aggregates(timestamptz, timestamptz, text), energy.hour_flows(timestamptz, timestamptz, boolean),
    energy.rollup(text, text, timestamptz, timestamptz, text, timestamptz),
    energy.quarter_aggregates(timestamptz, timestamptz), energy.history(text, date, date),
    energy.history_compared(text, date, date),
    energy.counter_step(energy.counter_state, timestamptz, double precision, double precision),
    energy.step_start(energy.counter_state, energy.counter_state) TO energy_web;

-- The dashboard's small queries gain nothing from JIT compilation, which costs a Raspberry Pi a lot of CPU and
-- memory per connection.
ALTER ROLE energy_web SET jit = off;
