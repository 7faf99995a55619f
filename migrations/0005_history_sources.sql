-- History imported from the Mijn Fluvius portal (source 'fluvius'): the portal gives totals per quarter hour or
-- hour, not meter readings, so a new kind 'amount' holds the quantity measured in the interval that starts at the
-- reading's time (interval_seconds long). The aggregation counts an amount as the energy of the period it falls in.
ALTER TABLE energy.metric DROP CONSTRAINT metric_source_check;
ALTER TABLE energy.metric ADD CONSTRAINT metric_source_check CHECK (source IN ('dsmr', 'sun2000', 'fusionsolar', 'fluvius'));
ALTER TABLE energy.metric DROP CONSTRAINT metric_kind_check;
ALTER TABLE energy.metric ADD CONSTRAINT metric_kind_check CHECK (kind IN ('gauge', 'counter', 'amount'));
ALTER TABLE energy.metric ADD COLUMN interval_seconds integer CHECK (interval_seconds > 0),
    ADD CONSTRAINT metric_amount_interval CHECK ((kind = 'amount') = (interval_seconds IS NOT NULL));
COMMENT ON COLUMN energy.metric.interval_seconds IS 'Amounts: the length of the interval a reading covers, from its ts';

INSERT INTO energy.metric (source, name, unit, kind, interval_seconds, min_value, max_value, description) VALUES
    ('fluvius', 'energy_import_t1', 'kWh', 'amount', 900, 0, 25, 'Energy imported per quarter hour, day tariff (portal: Afname Dag)'),
    ('fluvius', 'energy_import_t2', 'kWh', 'amount', 900, 0, 25, 'Energy imported per quarter hour, night tariff (portal: Afname Nacht)'),
    ('fluvius', 'energy_export_t1', 'kWh', 'amount', 900, 0, 25, 'Energy exported per quarter hour, day tariff (portal: Injectie Dag)'),
    ('fluvius', 'energy_export_t2', 'kWh', 'amount', 900, 0, 25, 'Energy exported per quarter hour, night tariff (portal: Injectie Nacht)'),
    ('fluvius', 'gas_volume', 'm3', 'amount', 3600, 0, 40, 'Gas taken per hour (portal: Afname, m3)'),
    ('fluvius', 'gas_energy', 'kWh', 'amount', 3600, 0, 400, 'Gas taken per hour as energy (portal: Afname, kWh)');
