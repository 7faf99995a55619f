-- Complete ISO weeks (Monday to Sunday) per metric, labelled like 2026-W01.
CREATE OR REPLACE VIEW energy.weekly AS
SELECT to_char(local_start, 'IYYY-"W"IW') AS week, local_start::date AS first_day, source, metric, unit, kind,
       period_start, period_end, n, sum, avg, min, max, first, last, delta, estimated
FROM energy.aggregates WHERE level = 'week';
