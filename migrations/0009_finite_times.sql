-- A reading's time must be a real moment: 'infinity' or '-infinity' would make every catch-up span without end.
DELETE FROM energy.raw_reading WHERE NOT isfinite(ts);
ALTER TABLE energy.raw_reading ADD CONSTRAINT raw_reading_ts_finite CHECK (isfinite(ts));
