-- Complete calendar months per metric, labelled like 2026-01.
CREATE OR REPLACE VIEW energy.monthly AS
SELECT to_char(local_start, 'YYYY-MM') AS month, source, metric, unit, kind,
       period_start, period_end, n, sum, avg, min, max, first, last, delta, estimated
FROM energy.aggregates WHERE level = 'month';
