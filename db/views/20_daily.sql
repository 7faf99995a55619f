-- Complete local days per metric, with their length in hours (23, 24 or 25).
CREATE OR REPLACE VIEW energy.daily AS
SELECT local_start::date AS day, source, metric, unit, kind, period_start, period_end,
       extract(epoch FROM period_end - period_start) / 3600 AS hours, n, sum, avg, min, max, first, last, delta, estimated
FROM energy.aggregates WHERE level = 'day';
