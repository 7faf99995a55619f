-- What real SUN2000 installations report beyond the first register set: every PV string, alarms and fault code,
-- line voltages, the day's peak, insulation resistance, the power meter per phase, the battery's energy; the
-- FusionSolar hourly history; and energy.status_text, which names the codes that device registers report.

INSERT INTO energy.metric (source, name, unit, kind, min_value, max_value, max_rise_per_hour, description) VALUES
    ('sun2000', 'pv_strings', '', 'gauge', 0, 24, NULL, 'Number of PV strings the inverter has (30071)'),
    ('sun2000', 'alarm_1', '', 'gauge', 0, 65535, NULL, 'Alarm bits, word 1 (32008): each set bit is an active alarm'),
    ('sun2000', 'alarm_2', '', 'gauge', 0, 65535, NULL, 'Alarm bits, word 2 (32009): each set bit is an active alarm'),
    ('sun2000', 'alarm_3', '', 'gauge', 0, 65535, NULL, 'Alarm bits, word 3 (32010): each set bit is an active alarm'),
    ('sun2000', 'fault_code', '', 'gauge', 0, 65535, NULL, 'Fault code (32090), 0 = no fault'),
    ('sun2000', 'grid_voltage_ab', 'V', 'gauge', 0, 1000, NULL, 'Line voltage A-B (32066)'),
    ('sun2000', 'grid_voltage_bc', 'V', 'gauge', 0, 1000, NULL, 'Line voltage B-C (32067)'),
    ('sun2000', 'grid_voltage_ca', 'V', 'gauge', 0, 1000, NULL, 'Line voltage C-A (32068)'),
    ('sun2000', 'power_peak_day', 'W', 'gauge', -300000, 300000, NULL, 'Highest active power today (32078)'),
    ('sun2000', 'insulation_resistance', 'MΩ', 'gauge', 0, 100, NULL, 'Insulation resistance of the PV array to earth (32088)'),
    ('sun2000', 'meter_voltage_a', 'V', 'gauge', 0, 500, NULL, 'Phase A voltage at the inverter''s meter (37101)'),
    ('sun2000', 'meter_voltage_b', 'V', 'gauge', 0, 500, NULL, 'Phase B voltage at the inverter''s meter (37103)'),
    ('sun2000', 'meter_voltage_c', 'V', 'gauge', 0, 500, NULL, 'Phase C voltage at the inverter''s meter (37105)'),
    ('sun2000', 'meter_current_a', 'A', 'gauge', -1000, 1000, NULL, 'Phase A current at the inverter''s meter (37107)'),
    ('sun2000', 'meter_current_b', 'A', 'gauge', -1000, 1000, NULL, 'Phase B current at the inverter''s meter (37109)'),
    ('sun2000', 'meter_current_c', 'A', 'gauge', -1000, 1000, NULL, 'Phase C current at the inverter''s meter (37111)'),
    ('sun2000', 'meter_frequency', 'Hz', 'gauge', 0, 70, NULL, 'Grid frequency at the inverter''s meter (37118)'),
    ('sun2000', 'meter_type', '', 'gauge', 0, 65535, NULL, 'Type of the inverter''s meter (37125): 0 single-phase, 1 three-phase'),
    ('sun2000', 'meter_power_a', 'W', 'gauge', -1000000, 1000000, NULL, 'Phase A power at the inverter''s meter, positive when feeding in (37132)'),
    ('sun2000', 'meter_power_b', 'W', 'gauge', -1000000, 1000000, NULL, 'Phase B power at the inverter''s meter, positive when feeding in (37134)'),
    ('sun2000', 'meter_power_c', 'W', 'gauge', -1000000, 1000000, NULL, 'Phase C power at the inverter''s meter, positive when feeding in (37136)'),
    ('sun2000', 'battery_capacity', 'kWh', 'gauge', 0, 1000, NULL, 'Rated capacity of the battery (37758)'),
    ('sun2000', 'battery_status', '', 'gauge', 0, 65535, NULL, 'Battery running status (37762): 0 offline, 1 standby, 2 running, 3 fault, 4 sleep'),
    ('sun2000', 'battery_energy_charged', 'kWh', 'counter', 0, 100000000, 500, 'Energy charged into the battery since installation (37780)'),
    ('sun2000', 'battery_energy_discharged', 'kWh', 'counter', 0, 100000000, 500, 'Energy discharged from the battery since installation (37782)'),
    ('sun2000', 'battery_energy_charged_day', 'kWh', 'gauge', 0, 5000, NULL, 'Energy charged into the battery today (37784)'),
    ('sun2000', 'battery_energy_discharged_day', 'kWh', 'gauge', 0, 5000, NULL, 'Energy discharged from the battery today (37786)');

-- PV strings 3 to 24: voltage and current in pairs from 32020 (strings 1 and 2 are in 0001).
INSERT INTO energy.metric (source, name, unit, kind, min_value, max_value, description)
SELECT 'sun2000', format('pv_%s_%s', lpad(n::text, 2, '0'), q.quantity), q.unit, 'gauge', q.min_value, q.max_value,
       format('PV string %s %s (%s)', n, q.quantity, 32016 + 2 * (n - 1) + q.word)
FROM generate_series(3, 24) AS n
CROSS JOIN (VALUES ('voltage', 'V', 0, 1500, 0), ('current', 'A', -100, 100, 1)) AS q (quantity, unit, min_value, max_value, word)
ORDER BY n, q.word;

-- The Northbound API gives the station's production per hour (getKpiStationHour, inverter_power): an amount.
INSERT INTO energy.metric (source, name, unit, kind, interval_seconds, min_value, max_value, description) VALUES
    ('fusionsolar', 'energy_yield_hour', 'kWh', 'amount', 3600, 0, 300,
     'Energy produced in the hour from ts, from the FusionSolar history (python -m ingest.fusionsolar --history)');

-- Status registers are stored as the numbers the device sends; this catalog gives them words for views and the page.
CREATE TABLE energy.status_text (
    source text NOT NULL,
    metric text NOT NULL,
    code integer NOT NULL,
    text text NOT NULL,
    PRIMARY KEY (source, metric, code),
    FOREIGN KEY (source, metric) REFERENCES energy.metric (source, name)
);
COMMENT ON TABLE energy.status_text IS 'What a status code of a metric means, e.g. sun2000 device_status 512 = On-grid';

-- Codes as Huawei's interface definition writes them (hexadecimal for the device status).
INSERT INTO energy.status_text (source, metric, code, text) VALUES
    ('sun2000', 'device_status', x'0000'::int, 'Standby: initializing'),
    ('sun2000', 'device_status', x'0001'::int, 'Standby: detecting insulation resistance'),
    ('sun2000', 'device_status', x'0002'::int, 'Standby: detecting irradiation'),
    ('sun2000', 'device_status', x'0003'::int, 'Standby: grid detecting'),
    ('sun2000', 'device_status', x'0100'::int, 'Starting'),
    ('sun2000', 'device_status', x'0200'::int, 'On-grid'),
    ('sun2000', 'device_status', x'0201'::int, 'On-grid: power limited'),
    ('sun2000', 'device_status', x'0202'::int, 'On-grid: self-derating'),
    ('sun2000', 'device_status', x'0300'::int, 'Shutdown: fault'),
    ('sun2000', 'device_status', x'0301'::int, 'Shutdown: command'),
    ('sun2000', 'device_status', x'0302'::int, 'Shutdown: OVGR'),
    ('sun2000', 'device_status', x'0303'::int, 'Shutdown: communication disconnected'),
    ('sun2000', 'device_status', x'0304'::int, 'Shutdown: power limited'),
    ('sun2000', 'device_status', x'0305'::int, 'Shutdown: manual startup required'),
    ('sun2000', 'device_status', x'0306'::int, 'Shutdown: DC switches disconnected'),
    ('sun2000', 'device_status', x'0307'::int, 'Shutdown: rapid cutoff'),
    ('sun2000', 'device_status', x'0308'::int, 'Shutdown: input underpowered'),
    ('sun2000', 'device_status', x'0401'::int, 'Grid scheduling: cosφ-P curve'),
    ('sun2000', 'device_status', x'0402'::int, 'Grid scheduling: Q-U curve'),
    ('sun2000', 'device_status', x'0403'::int, 'Grid scheduling: PF-U curve'),
    ('sun2000', 'device_status', x'0404'::int, 'Grid scheduling: dry contact'),
    ('sun2000', 'device_status', x'0405'::int, 'Grid scheduling: Q-P curve'),
    ('sun2000', 'device_status', x'0500'::int, 'Spot-check ready'),
    ('sun2000', 'device_status', x'0501'::int, 'Spot-checking'),
    ('sun2000', 'device_status', x'0600'::int, 'Inspecting'),
    ('sun2000', 'device_status', x'0700'::int, 'AFCI self-check'),
    ('sun2000', 'device_status', x'0800'::int, 'I-V scanning'),
    ('sun2000', 'device_status', x'0900'::int, 'DC input detection'),
    ('sun2000', 'device_status', x'0A00'::int, 'Running: off-grid charging'),
    ('sun2000', 'device_status', x'A000'::int, 'Standby: no irradiation'),
    ('sun2000', 'battery_status', 0, 'Offline'),
    ('sun2000', 'battery_status', 1, 'Standby'),
    ('sun2000', 'battery_status', 2, 'Running'),
    ('sun2000', 'battery_status', 3, 'Fault'),
    ('sun2000', 'battery_status', 4, 'Sleep mode'),
    ('sun2000', 'meter_type', 0, 'Single-phase'),
    ('sun2000', 'meter_type', 1, 'Three-phase');
