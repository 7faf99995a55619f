-- Complete local hours per metric (a DST change shows as a 23- or 25-hour day of hours).
CREATE OR REPLACE VIEW energy.hourly AS
SELECT to_char(local_start, 'YYYY-MM-DD HH24:MI') AS hour, local_start::date AS day, source, metric, unit, kind,
       period_start, period_end, n, sum, avg, min, max, first, last, delta
FROM energy.aggregates WHERE level = 'hour';
