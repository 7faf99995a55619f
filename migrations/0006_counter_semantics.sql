-- Counters that survive real meters, gauges averaged over time, one figure per flow, and a role model in which
-- no application role can reach the owner's rights.

-- Periods that hold no reading of their own still carry a counter's estimated share of a step that spans them
-- (n = 0): their other columns are then NULL, and `estimated` says the delta is (partly) an estimate.
DO $$
DECLARE
    v_table text;
BEGIN
    FOREACH v_table IN ARRAY ARRAY['agg_hour', 'agg_day', 'agg_week', 'agg_month'] LOOP
        EXECUTE format('ALTER TABLE energy.%I ALTER sum DROP NOT NULL, ALTER avg DROP NOT NULL, '
                       'ALTER min DROP NOT NULL, ALTER max DROP NOT NULL, ALTER first DROP NOT NULL, '
                       'ALTER last DROP NOT NULL, ALTER first_ts DROP NOT NULL, ALTER last_ts DROP NOT NULL, '
                       'ADD COLUMN estimated boolean NOT NULL DEFAULT false', v_table);
    END LOOP;
END
$$;

-- What a counter's hour needs once its raw readings are gone: the increase between its first and last reading,
-- the step that led into its first reading (from the previous reading, gap_from, possibly hours earlier), and the
-- state of the glitch/reset rule after its last reading (see energy.counter_step).
CREATE TABLE energy.counter_hour (
    metric_id integer NOT NULL REFERENCES energy.metric (id),
    period_start timestamptz NOT NULL,
    rise double precision NOT NULL,
    gap_in double precision NOT NULL,
    gap_from timestamptz,
    hwm double precision NOT NULL,
    hwm_ts timestamptz NOT NULL,
    low_since timestamptz,
    low_first double precision,
    simple boolean NOT NULL DEFAULT true,  -- no reset, re-base or implausible rise in the hour
    PRIMARY KEY (metric_id, period_start)
);
COMMENT ON TABLE energy.counter_hour IS
    'Per counter and hour with readings: rise within the hour, the step into it, and the glitch/reset state after it';

-- Late readings are logged without a unique key so that a writer never waits on a running aggregation.
ALTER TABLE energy.stale_period DROP CONSTRAINT stale_period_pkey;
CREATE INDEX stale_period_level_start ON energy.stale_period (level, period_start);

-- The levels name their tables by regclass, so that dynamic SQL can only ever touch an aggregate table.
ALTER TABLE energy.agg_level ALTER agg_table TYPE regclass USING agg_table::regclass;

-- Derived flows: one figure per flow and hour, chosen from the sources by rule (energy.hour_flows), rolled up
-- like any metric. Production from the inverter where it has data, else the cloud; grid from the live meter
-- where it has data, else the imported portal history.
ALTER TABLE energy.metric DROP CONSTRAINT metric_source_check;
ALTER TABLE energy.metric ADD CONSTRAINT metric_source_check
    CHECK (source IN ('dsmr', 'sun2000', 'fusionsolar', 'fluvius', 'flow'));
INSERT INTO energy.metric (source, name, unit, kind, interval_seconds, description) VALUES
    ('flow', 'produced', 'kWh', 'amount', 3600, 'Solar production: the inverter where it has data, else the cloud'),
    ('flow', 'imported_t1', 'kWh', 'amount', 3600, 'Imported, day tariff: the live meter where it has data, else the portal'),
    ('flow', 'imported_t2', 'kWh', 'amount', 3600, 'Imported, night tariff: the live meter where it has data, else the portal'),
    ('flow', 'exported_t1', 'kWh', 'amount', 3600, 'Exported, day tariff: the live meter where it has data, else the portal'),
    ('flow', 'exported_t2', 'kWh', 'amount', 3600, 'Exported, night tariff: the live meter where it has data, else the portal'),
    ('flow', 'gas', 'm3', 'amount', 3600, 'Gas: the live meter where it has data, else the portal');

-- The cleanup is a step of its own; its horizon stays in agg_progress ('raw').

-- A role that owns the few SECURITY DEFINER functions (the live hour for the views, the late-reading trigger):
-- not a superuser, it can read the energy tables and note late readings, nothing else.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'energy_engine') THEN
        CREATE ROLE energy_engine NOLOGIN;
    END IF;
END
$$;

-- The state of a counter after a reading (energy.counter_step): the increase that reading brought, the highest
-- value seen since the last reset (hwm, when), while the counter sits below it since when and from where, and
-- whether the step was simple (no reset, re-base or implausible rise: its energy is the rise of the hwm).
CREATE TYPE energy.counter_state AS (
    inc double precision,
    hwm double precision,
    hwm_ts timestamptz,
    low_since timestamptz,
    low_first double precision,
    simple boolean
);

-- Which source gives each flow, in order of preference, per group of flows that must come from one source together
-- (the grid's four registers from one meter). For each hour the first source with data in the group wins.
CREATE TABLE energy.flow_rule (
    flow text NOT NULL,
    grp text NOT NULL,
    priority integer NOT NULL,
    source text NOT NULL,
    metric text NOT NULL,
    PRIMARY KEY (flow, priority)
);
COMMENT ON TABLE energy.flow_rule IS 'Per flow, the sources in order of preference; the first with data in an hour wins';
INSERT INTO energy.flow_rule VALUES
    ('produced', 'solar', 1, 'sun2000', 'energy_yield_total'),
    ('produced', 'solar', 2, 'fusionsolar', 'energy_yield_total'),
    ('produced', 'solar', 3, 'fusionsolar', 'energy_yield_hour'),
    ('imported_t1', 'grid', 1, 'dsmr', 'energy_import_t1'),
    ('imported_t2', 'grid', 1, 'dsmr', 'energy_import_t2'),
    ('exported_t1', 'grid', 1, 'dsmr', 'energy_export_t1'),
    ('exported_t2', 'grid', 1, 'dsmr', 'energy_export_t2'),
    ('imported_t1', 'grid', 2, 'fluvius', 'energy_import_t1'),
    ('imported_t2', 'grid', 2, 'fluvius', 'energy_import_t2'),
    ('exported_t1', 'grid', 2, 'fluvius', 'energy_export_t1'),
    ('exported_t2', 'grid', 2, 'fluvius', 'energy_export_t2'),
    ('gas', 'gas', 1, 'dsmr', 'gas_volume'),
    ('gas', 'gas', 2, 'fluvius', 'gas_volume');

-- Hours aggregated by an earlier version: their counters' state as far as the stored figures tell, and a redo of
-- every hour at the next run (from raw where it is kept, from these figures where not), which also derives their
-- flows.
INSERT INTO energy.counter_hour (metric_id, period_start, rise, gap_in, gap_from, hwm, hwm_ts)
SELECT a.metric_id, a.period_start, coalesce(a.delta, 0), 0, NULL, a.max, a.last_ts
FROM energy.agg_hour a JOIN energy.metric m ON m.id = a.metric_id
WHERE m.kind = 'counter';
INSERT INTO energy.stale_period (level, period_start) SELECT DISTINCT 'hour', period_start FROM energy.agg_hour;
