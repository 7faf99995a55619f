-- Aggregates per metric and complete local period (hour, day, ISO week, calendar month), and the bookkeeping that
-- lets the procedures catch up after missed runs and redo periods that received late readings.

CREATE TABLE energy.agg_hour (
    metric_id integer NOT NULL REFERENCES energy.metric (id),
    period_start timestamptz NOT NULL,
    period_end timestamptz NOT NULL,
    n bigint NOT NULL,
    sum double precision NOT NULL,
    avg double precision NOT NULL,
    min double precision NOT NULL,
    max double precision NOT NULL,
    first double precision NOT NULL,
    last double precision NOT NULL,
    first_ts timestamptz NOT NULL,
    last_ts timestamptz NOT NULL,
    delta double precision,  -- counters only: increase since the last reading before the period
    PRIMARY KEY (metric_id, period_start)
);
CREATE INDEX agg_hour_period_start ON energy.agg_hour (period_start);

CREATE TABLE energy.agg_day (LIKE energy.agg_hour INCLUDING ALL);
ALTER TABLE energy.agg_day ADD FOREIGN KEY (metric_id) REFERENCES energy.metric (id);
CREATE TABLE energy.agg_week (LIKE energy.agg_hour INCLUDING ALL);
ALTER TABLE energy.agg_week ADD FOREIGN KEY (metric_id) REFERENCES energy.metric (id);
CREATE TABLE energy.agg_month (LIKE energy.agg_hour INCLUDING ALL);
ALTER TABLE energy.agg_month ADD FOREIGN KEY (metric_id) REFERENCES energy.metric (id);

-- done_until: every complete period that starts before it is aggregated. For 'raw' it is the cleanup horizon:
-- raw readings before it were removed, so late readings there are merged into the aggregates, not recomputed.
CREATE TABLE energy.agg_progress (
    level text PRIMARY KEY CHECK (level IN ('hour', 'day', 'week', 'month', 'raw')),
    done_until timestamptz
);
INSERT INTO energy.agg_progress (level) VALUES ('hour'), ('day'), ('week'), ('month'), ('raw');

-- Periods already aggregated that must be redone: late readings (marked by a trigger on raw_reading) and
-- the parents of recomputed periods.
CREATE TABLE energy.stale_period (
    level text NOT NULL CHECK (level IN ('hour', 'day', 'week', 'month')),
    period_start timestamptz NOT NULL,
    PRIMARY KEY (level, period_start)
);

-- The levels as data: each is built from its source level; 'level' is also the date_trunc unit.
CREATE TABLE energy.agg_level (
    level text PRIMARY KEY,
    source_level text REFERENCES energy.agg_level (level),
    agg_table text NOT NULL UNIQUE
);
INSERT INTO energy.agg_level VALUES
    ('hour', NULL, 'energy.agg_hour'),
    ('day', 'hour', 'energy.agg_day'),
    ('week', 'day', 'energy.agg_week'),
    ('month', 'day', 'energy.agg_month');
