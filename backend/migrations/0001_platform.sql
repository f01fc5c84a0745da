-- The platform of issue 7: accounts, users, tokens, sites, charge points, tariffs, cards,
-- sessions, departures and the audit log. Money is integer cents (BIGINT); tariff parts may hold
-- fractions of a cent and are exact decimal TEXT; timestamps are fixed-width UTC TEXT.

CREATE TABLE accounts (
    id SERIAL_PK,
    kind TEXT NOT NULL CHECK (kind IN ('consumer', 'business', 'lease_driver', 'location_owner')),
    name TEXT NOT NULL,
    email TEXT,
    address TEXT,
    iban TEXT,
    vat_number TEXT,
    prepaid_balance_cents BIGINT NOT NULL DEFAULT 0,
    erased_at TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id SERIAL_PK,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    email TEXT NOT NULL UNIQUE,
    name TEXT,
    role TEXT NOT NULL CHECK (role IN ('customer', 'admin')),
    password_hash TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX users_account ON users (account_id);

CREATE TABLE sites (
    id SERIAL_PK,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    name TEXT NOT NULL,
    address TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX sites_account ON sites (account_id);

CREATE TABLE api_tokens (
    id SERIAL_PK,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('user', 'site')),
    user_id BIGINT REFERENCES users (id),
    site_id BIGINT REFERENCES sites (id),
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    CHECK ((kind = 'user' AND user_id IS NOT NULL) OR (kind = 'site' AND site_id IS NOT NULL))
);

CREATE TABLE tariffs (
    id SERIAL_PK,
    account_id BIGINT REFERENCES accounts (id),
    name TEXT NOT NULL,
    start_cents TEXT NOT NULL,
    per_kwh_cents TEXT NOT NULL,
    per_minute_cents TEXT NOT NULL,
    basis TEXT NOT NULL CHECK (basis IN ('incl_vat', 'excl_vat')),
    created_at TEXT NOT NULL
);

CREATE TABLE charge_points (
    id SERIAL_PK,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    site_id BIGINT REFERENCES sites (id),
    ocpp_id TEXT NOT NULL,
    name TEXT NOT NULL,
    location TEXT,
    guest_usage INTEGER NOT NULL DEFAULT 0,
    tariff_id BIGINT REFERENCES tariffs (id),
    fast INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    UNIQUE (site_id, ocpp_id)
);
CREATE INDEX charge_points_account ON charge_points (account_id);

-- The card-list version: one counter row, taken with UPDATE … RETURNING so that versions
-- commit in order on PostgreSQL too (the row lock is held to commit).
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('card_version', 0);

CREATE TABLE cards (
    id SERIAL_PK,
    uid TEXT NOT NULL UNIQUE,
    account_id BIGINT REFERENCES accounts (id),
    kind TEXT NOT NULL CHECK (kind IN ('subscription', 'prepaid')),
    status TEXT NOT NULL CHECK (status IN ('active', 'blocked', 'lost', 'expired')),
    label TEXT,
    expires_at TEXT,
    version BIGINT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX cards_account ON cards (account_id);

-- Which account's list a card change concerns: a card moved to another account is also a
-- change (a removal) for its old account's sites.
CREATE TABLE card_changes (
    account_id BIGINT NOT NULL,
    version BIGINT NOT NULL,
    card_id BIGINT NOT NULL REFERENCES cards (id),
    PRIMARY KEY (account_id, version, card_id)
);

CREATE TABLE card_orders (
    id SERIAL_PK,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    replaces_card_id BIGINT REFERENCES cards (id),
    reason TEXT NOT NULL,
    fee_cents BIGINT NOT NULL,
    fee_basis TEXT NOT NULL CHECK (fee_basis IN ('incl_vat', 'excl_vat')),
    status TEXT NOT NULL CHECK (status IN ('ordered', 'shipped', 'cancelled')),
    created_at TEXT NOT NULL
);
CREATE INDEX card_orders_account ON card_orders (account_id);

CREATE TABLE sessions (
    id SERIAL_PK,
    origin TEXT NOT NULL,
    site_id BIGINT REFERENCES sites (id),
    charge_point_id BIGINT REFERENCES charge_points (id),
    cp_ocpp_id TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    connector_id INTEGER NOT NULL,
    card_id BIGINT REFERENCES cards (id),
    account_id BIGINT REFERENCES accounts (id),
    id_tag TEXT,
    source TEXT NOT NULL CHECK (source IN ('own_network', 'roaming')),
    operator TEXT,
    started_at TEXT NOT NULL,
    stopped_at TEXT NOT NULL,
    energy_wh BIGINT NOT NULL,
    meter_start_wh DOUBLE PRECISION NOT NULL,
    meter_stop_wh DOUBLE PRECISION NOT NULL,
    stop_reason TEXT,
    energy_flagged INTEGER NOT NULL DEFAULT 0,
    start_cents TEXT NOT NULL,
    per_kwh_cents TEXT NOT NULL,
    per_minute_cents TEXT NOT NULL,
    tariff_basis TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (origin, cp_ocpp_id, transaction_id)
);
CREATE INDEX sessions_account ON sessions (account_id, id);
CREATE INDEX sessions_charge_point ON sessions (charge_point_id, id);

CREATE TABLE departures (
    id SERIAL_PK,
    charge_point_id BIGINT NOT NULL REFERENCES charge_points (id),
    site_id BIGINT REFERENCES sites (id),
    connector_id INTEGER NOT NULL,
    departure_at TEXT NOT NULL,
    car TEXT,
    soc_now DOUBLE PRECISION,
    target_soc DOUBLE PRECISION NOT NULL,
    battery_kwh DOUBLE PRECISION,
    max_power_kw DOUBLE PRECISION,
    requested_by BIGINT REFERENCES users (id),
    created_at TEXT NOT NULL
);
CREATE INDEX departures_site ON departures (site_id, id);

CREATE TABLE audit_log (
    id SERIAL_PK,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    account_id BIGINT,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_account ON audit_log (account_id, id);
