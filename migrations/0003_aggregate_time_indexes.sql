-- Time-range lookups across metrics use BRIN indexes on period_start: a btree there tempted the planner to scan
-- backwards through every metric's rows when looking for one metric's last value (the primary key serves that).
DROP INDEX energy.agg_hour_period_start;
DROP INDEX energy.agg_day_period_start_idx;
DROP INDEX energy.agg_week_period_start_idx;
DROP INDEX energy.agg_month_period_start_idx;
CREATE INDEX agg_hour_period_start ON energy.agg_hour USING brin (period_start);
CREATE INDEX agg_day_period_start ON energy.agg_day USING brin (period_start);
CREATE INDEX agg_week_period_start ON energy.agg_week USING brin (period_start);
CREATE INDEX agg_month_period_start ON energy.agg_month USING brin (period_start);
