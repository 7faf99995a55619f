-- Money: the household's contract periods (fixed prices, or prices indexed on the day-ahead market) and the
-- day-ahead market prices, from which the view energy.costs prices every hour's energy.

-- One row per contract period, valid from its local date until the next row's. Prices are in EUR, including VAT
-- or not as prices_include_vat says; every amount energy.costs shows includes VAT (export revenue excepted: a
-- household's injection is no VAT-liable supply, so its price is taken as given).
CREATE TABLE energy.tariff (
    valid_from date PRIMARY KEY,
    prices_include_vat boolean NOT NULL,
    vat_rate numeric NOT NULL,
    import_day numeric,
    import_night numeric,
    export_day numeric,
    export_night numeric,
    gas_kwh numeric,
    gas_m3_to_kwh numeric,
    capacity_kw_year numeric NOT NULL DEFAULT 0,
    fixed_year numeric NOT NULL DEFAULT 0,
    import_market_factor numeric,
    import_market_add numeric,
    export_market_factor numeric,
    export_market_add numeric,
    CONSTRAINT tariff_vat_rate_is_a_fraction CHECK (vat_rate >= 0 AND vat_rate < 1),
    CONSTRAINT tariff_import_fixed_or_market CHECK (
        (import_day IS NOT NULL AND import_night IS NOT NULL AND import_market_factor IS NULL
         AND import_market_add IS NULL)
        OR (import_day IS NULL AND import_night IS NULL AND import_market_factor IS NOT NULL
            AND import_market_add IS NOT NULL)),
    CONSTRAINT tariff_export_fixed_or_market CHECK (
        (export_day IS NOT NULL AND export_night IS NOT NULL AND export_market_factor IS NULL
         AND export_market_add IS NULL)
        OR (export_day IS NULL AND export_night IS NULL AND export_market_factor IS NOT NULL
            AND export_market_add IS NOT NULL)),
    CONSTRAINT tariff_gas_price_needs_m3_to_kwh CHECK (gas_kwh IS NULL OR gas_m3_to_kwh IS NOT NULL),
    CONSTRAINT tariff_gas_m3_to_kwh_positive CHECK (gas_m3_to_kwh > 0),
    CONSTRAINT tariff_fees_not_negative CHECK (capacity_kw_year >= 0 AND fixed_year >= 0)
);
COMMENT ON TABLE energy.tariff IS
    'Contract periods: each row is valid from valid_from (local date) until the next row''s valid_from';
COMMENT ON COLUMN energy.tariff.prices_include_vat IS 'Whether the prices below include VAT';
COMMENT ON COLUMN energy.tariff.vat_rate IS 'VAT as a fraction: 0.06 for 6 %';
COMMENT ON COLUMN energy.tariff.import_day IS 'Fixed contract: EUR per kWh imported on the day register (t1)';
COMMENT ON COLUMN energy.tariff.import_night IS 'Fixed contract: EUR per kWh imported on the night register (t2)';
COMMENT ON COLUMN energy.tariff.export_day IS 'Fixed contract: EUR per kWh exported on the day register (t1)';
COMMENT ON COLUMN energy.tariff.export_night IS 'Fixed contract: EUR per kWh exported on the night register (t2)';
COMMENT ON COLUMN energy.tariff.gas_kwh IS 'EUR per kWh of gas, all-in (NULL: no gas contract)';
COMMENT ON COLUMN energy.tariff.gas_m3_to_kwh IS 'kWh per m3 of gas (the conversion factor on the gas bill)';
COMMENT ON COLUMN energy.tariff.capacity_kw_year IS 'Capacity tariff: EUR per kW (twelve-month average peak) per year';
COMMENT ON COLUMN energy.tariff.fixed_year IS 'Fixed fees: EUR per year (supplier, data management, ...)';
COMMENT ON COLUMN energy.tariff.import_market_factor IS 'Dynamic import: a in a x market + b (EUR per kWh)';
COMMENT ON COLUMN energy.tariff.import_market_add IS 'Dynamic import: b in a x market + b (EUR per kWh), all-in';
COMMENT ON COLUMN energy.tariff.export_market_factor IS 'Dynamic export: a in a x market + b (EUR per kWh)';
COMMENT ON COLUMN energy.tariff.export_market_add IS 'Dynamic export: b in a x market + b (EUR per kWh)';

-- Day-ahead prices per hour or quarter hour (EUR per kWh, excl. VAT), written by `python -m ingest.prices`. Each
-- price lies within one hour of the calendar (a quarter or a whole hour, aligned), and no two prices overlap.
CREATE TABLE energy.market_price (
    period_start timestamptz PRIMARY KEY,
    period_end timestamptz NOT NULL,
    eur_per_kwh numeric NOT NULL,
    CONSTRAINT market_price_quarter_or_hour
        CHECK (period_end - period_start IN (interval '15 minutes', interval '1 hour')),
    CONSTRAINT market_price_aligned
        CHECK (date_bin(period_end - period_start, period_start, timestamptz '2000-01-01 00:00+00') = period_start),
    CONSTRAINT market_price_no_overlap EXCLUDE USING gist (tstzrange(period_start, period_end) WITH &&)
);
COMMENT ON TABLE energy.market_price IS 'Day-ahead market prices per hour or quarter hour, EUR per kWh excl. VAT';

-- The dashboard's queries are many small index lookups that the planner cannot size (energy.costs reads each
-- period's hours by a range it only knows at run time): compiling them with JIT costs far more than it saves.
ALTER ROLE energy_web SET jit = off;
