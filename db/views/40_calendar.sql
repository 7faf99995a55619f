-- The calendar of energy.settings as of now: its time zone and the local date of today, so that the dashboard
-- opens on the database's day rather than the web server's (whose operating system may run in UTC).
CREATE OR REPLACE VIEW energy.calendar AS
SELECT time_zone, (now() AT TIME ZONE time_zone)::date AS today
FROM energy.settings;
