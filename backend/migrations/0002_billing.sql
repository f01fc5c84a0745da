-- Tables the billing runs persist into (backend/billing is the pure domain). Plans mirror
-- backend.billing.plans.Plan; invoices and credit notes are numbered per series without gaps.

CREATE TABLE plans (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('charge_point', 'card', 'prepaid')),
    form TEXT NOT NULL CHECK (form IN ('fixed', 'flexible')),
    monthly_fee_cents BIGINT NOT NULL DEFAULT 0,
    fee_basis TEXT NOT NULL DEFAULT 'incl_vat' CHECK (fee_basis IN ('incl_vat', 'excl_vat')),
    bundle_energy_wh BIGINT,
    bundle_connected_minutes BIGINT,
    bundle_fast_energy_wh BIGINT,
    overage_per_kwh_cents TEXT NOT NULL DEFAULT '0',
    overage_per_connected_hour_cents TEXT NOT NULL DEFAULT '0',
    overage_per_fast_kwh_cents TEXT NOT NULL DEFAULT '0',
    duration_years INTEGER,
    created_at TEXT NOT NULL
);

CREATE TABLE subscriptions (
    id SERIAL_PK,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    plan_code TEXT NOT NULL REFERENCES plans (code),
    card_id BIGINT REFERENCES cards (id),
    charge_point_id BIGINT REFERENCES charge_points (id),
    status TEXT NOT NULL CHECK (
        status IN ('applied', 'accepted', 'active', 'notice_given', 'ended', 'rejected', 'withdrawn')
    ),
    applied_on TEXT NOT NULL,
    starts_on TEXT,
    minimum_term_ends_on TEXT,
    notice_received_on TEXT,
    ends_on TEXT,
    distance_contract INTEGER NOT NULL DEFAULT 1,
    immediate_start INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX subscriptions_account ON subscriptions (account_id);

CREATE TABLE invoice_numbers (
    series TEXT PRIMARY KEY,
    next_value BIGINT NOT NULL
);

CREATE TABLE invoices (
    id SERIAL_PK,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    number TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    month TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'paid', 'reminded', 'suspended', 'void')),
    net_cents BIGINT NOT NULL,
    vat_cents BIGINT NOT NULL,
    gross_cents BIGINT NOT NULL,
    -- Invoices keep the legally required customer fields even after a GDPR erasure.
    customer_name TEXT NOT NULL,
    customer_address TEXT,
    customer_vat_number TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX invoices_account ON invoices (account_id, month);

CREATE TABLE invoice_lines (
    id SERIAL_PK,
    invoice_id BIGINT NOT NULL REFERENCES invoices (id),
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    quantity TEXT NOT NULL,
    vat_rate TEXT NOT NULL,
    net_cents BIGINT NOT NULL,
    vat_cents BIGINT NOT NULL,
    gross_cents BIGINT NOT NULL,
    UNIQUE (invoice_id, position)
);
