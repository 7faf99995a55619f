-- Tells listeners (the dashboard's live stream, LISTEN energy_live) that readings of the last minutes arrived, once
-- per inserting statement, delivered when its transaction commits: the page shows a telegram as soon as it is
-- stored, without polling. Imported history (older readings) notifies nobody. The payload is empty: listeners
-- read the views. Runs as the writer (the ingest role may notify; it reads only the rows it inserted).
CREATE OR REPLACE FUNCTION energy.notify_live_readings()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT FROM inserted i WHERE i.ts > now() - interval '5 minutes') THEN
        PERFORM pg_notify('energy_live', '');
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER raw_reading_notify
    AFTER INSERT ON energy.raw_reading
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION energy.notify_live_readings();
