-- Every M-Bus device of the P1 port as its own series: the first gas and water meters keep gas_volume and
-- water_volume; a second, third or fourth device of a kind gets its own (gas_volume_2, ...), and heat and cooling
-- meters (device types 004/012 and 010/011, counting GJ) are stored in kWh. With plausible ranges, as in 0004.
INSERT INTO energy.metric (source, name, unit, kind, description, min_value, max_value, max_rise_per_hour)
SELECT 'dsmr', d.base || CASE WHEN n.number = 1 THEN '' ELSE '_' || n.number END, d.unit, 'counter',
       format(d.description, CASE n.number WHEN 1 THEN 'first' WHEN 2 THEN 'second' WHEN 3 THEN 'third' ELSE 'fourth' END),
       0, d.max_value, d.max_rise
FROM (VALUES
    -- A household gas meter (G4/G6) passes at most 10 m3/h, a water meter 4 m3/h: the ranges leave a margin.
    ('gas_volume', 'm3', 999999.999, 40,
     'Reading of the %s gas meter at its capture time (0-n:24.2.3, M-Bus device type 003)'),
    ('water_volume', 'm3', 999999.999, 20,
     'Reading of the %s water meter at its capture time (0-n:24.2.1, M-Bus device type 007)'),
    -- Heat meters count up to 99,999,999 GJ (2.8e10 kWh); a home's heat or cooling stays far below 200 kW.
    ('heat_energy', 'kWh', 30000000000, 200,
     'Heat delivered, from the %s heat meter at its capture time (0-n:24.2.1 in GJ, M-Bus device type 004 or 012)'),
    ('cooling_energy', 'kWh', 30000000000, 200,
     'Cooling delivered, from the %s cooling meter at its capture time (0-n:24.2.1 in GJ, M-Bus device type 010 or 011)')
) AS d (base, unit, max_value, max_rise, description)
CROSS JOIN generate_series(1, 4) AS n (number)
WHERE NOT (d.base IN ('gas_volume', 'water_volume') AND n.number = 1);  -- those two exist since 0001
