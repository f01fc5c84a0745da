-- Prepaid top-ups through a payment provider (issue 19.5, art. 10.7): one row per payment made
-- at the provider (Mollie payments API v2 shape). `status` is the provider's last word as
-- fetched from the provider (never taken from a webhook's body); the balance is credited once,
-- when a fetched status is 'paid': `credited_at` is set in the same transaction as the ledger
-- entry "payment:<provider_id>", and only while it is still NULL.
CREATE TABLE payments (
    id SERIAL_PK,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    provider_id TEXT UNIQUE,
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    status TEXT NOT NULL CHECK (status IN ('creating', 'open', 'pending', 'authorized', 'paid',
                                           'failed', 'canceled', 'expired')),
    checkout_url TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    credited_at TEXT
);
CREATE INDEX payments_account ON payments (account_id, id);
