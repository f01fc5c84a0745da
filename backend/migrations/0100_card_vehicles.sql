-- The driver and car a charge card names (issue 16.5): a site plans the sessions started with
-- the card with this car (battery, AC power, phases, usual target and departures). One row per
-- card at most; a change takes the next card-list version, so it travels in the card delta.
CREATE TABLE card_vehicles (
    card_id BIGINT PRIMARY KEY REFERENCES cards (id),
    driver TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    battery_kwh DOUBLE PRECISION CHECK (battery_kwh IS NULL OR battery_kwh BETWEEN 1 AND 1000),
    max_power_kw DOUBLE PRECISION CHECK (max_power_kw IS NULL OR max_power_kw BETWEEN 1 AND 1000),
    phases INTEGER CHECK (phases IS NULL OR phases IN (1, 3)),
    target_soc DOUBLE PRECISION CHECK (target_soc IS NULL OR target_soc BETWEEN 1 AND 100),
    departures TEXT NOT NULL DEFAULT '{}',  -- JSON: {"mon": "07:30", ...} in the site's time
    updated_at TEXT NOT NULL
);
