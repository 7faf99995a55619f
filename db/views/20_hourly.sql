-- Complete local hours per metric, labelled with their UTC offset so that the two 02:00 hours of the autumn DST
-- day are told apart (2025-10-26 02:00+02, 2025-10-26 02:00+01).
CREATE OR REPLACE VIEW energy.hourly AS
SELECT to_char(a.local_start, 'YYYY-MM-DD HH24:MI')
           || to_char(extract(epoch FROM a.local_start - timezone('UTC', a.period_start)) / 3600, 'S00') AS hour,
       a.local_start::date AS day, a.source, a.metric, a.unit, a.kind,
       a.period_start, a.period_end, a.n, a.sum, a.avg, a.min, a.max, a.first, a.last, a.delta, a.estimated
FROM energy.aggregates a WHERE a.level = 'hour';
