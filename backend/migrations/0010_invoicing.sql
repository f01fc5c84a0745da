-- Invoicing (backend/invoicing): what the monthly run needs beyond 0002_billing.
-- Money is integer cents (BIGINT); dates are ISO TEXT; timestamps fixed-width UTC TEXT.

-- A document's identity (account, period, kind, key) makes re-runs idempotent: the unique
-- index refuses a second copy even from a concurrent run. `document_kind` tells the separate
-- overage invoice from the monthly one (the `kind` column of 0002 only knows invoice/credit
-- note); `run_month` is the month whose run issued it.
ALTER TABLE invoices ADD COLUMN document_kind TEXT NOT NULL DEFAULT 'invoice';
ALTER TABLE invoices ADD COLUMN doc_key TEXT NOT NULL DEFAULT '';
ALTER TABLE invoices ADD COLUMN run_month TEXT NOT NULL DEFAULT '';
ALTER TABLE invoices ADD COLUMN paid_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN reminder_sent_on TEXT;
CREATE UNIQUE INDEX invoices_identity ON invoices (account_id, month, document_kind, doc_key);
CREATE INDEX invoices_run_month ON invoices (run_month);

ALTER TABLE invoice_lines ADD COLUMN ref TEXT NOT NULL DEFAULT '';
ALTER TABLE invoice_lines ADD COLUMN unit TEXT NOT NULL DEFAULT '';

-- The sessions each document accounts for (billed, or covered by a bundle): a session of an
-- earlier month that no document lists is billed late, exactly once.
CREATE TABLE invoice_sessions (
    invoice_id BIGINT NOT NULL REFERENCES invoices (id),
    session_id BIGINT NOT NULL REFERENCES sessions (id),
    PRIMARY KEY (invoice_id, session_id)
);
CREATE INDEX invoice_sessions_session ON invoice_sessions (session_id);

-- Contract dates the domain needs and 0002 does not keep.
ALTER TABLE subscriptions ADD COLUMN accepted_on TEXT;
ALTER TABLE subscriptions ADD COLUMN end_reason TEXT;

-- Plan switches (art. 12.2): one per subscription per calendar month, fee billed that month.
CREATE TABLE plan_switches (
    id SERIAL_PK,
    subscription_id BIGINT NOT NULL REFERENCES subscriptions (id),
    requested_on TEXT NOT NULL,
    requested_month TEXT NOT NULL,
    new_plan_code TEXT NOT NULL REFERENCES plans (code),
    effective_on TEXT NOT NULL,
    fee_cents BIGINT NOT NULL,
    fee_basis TEXT NOT NULL CHECK (fee_basis IN ('incl_vat', 'excl_vat')),
    created_at TEXT NOT NULL,
    UNIQUE (subscription_id, requested_month)
);

-- One-off charges for the next invoice (transfer, misuse, interest): `on_day` decides the month.
CREATE TABLE billing_charges (
    id SERIAL_PK,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    on_day TEXT NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    cents BIGINT NOT NULL,
    basis TEXT NOT NULL CHECK (basis IN ('incl_vat', 'excl_vat')),
    vat_rate TEXT NOT NULL CHECK (vat_rate IN ('standard', 'out_of_scope')),
    created_at TEXT NOT NULL
);
CREATE INDEX billing_charges_account ON billing_charges (account_id, on_day);

-- Outages of our software per subscription (art. 6.4), credited in the month they ended.
CREATE TABLE outages (
    id SERIAL_PK,
    subscription_id BIGINT NOT NULL REFERENCES subscriptions (id),
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    cause TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Prepaid ledger (art. 10.7-10.11): one row per top-up, session deduction or correction; the
-- entry id makes a repeated entry a no-op.
CREATE TABLE prepaid_entries (
    id SERIAL_PK,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    entry_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('top_up', 'session', 'correction')),
    at TEXT NOT NULL,
    cents BIGINT NOT NULL,
    UNIQUE (account_id, entry_id)
);

-- What a guest-usage owner pays for electricity (art. 28.7 cap), incl. VAT, exact decimal TEXT.
CREATE TABLE guest_owner_settings (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id),
    electricity_cents_per_kwh TEXT NOT NULL
);
