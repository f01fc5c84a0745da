-- Late items and reimbursement payouts (backend/invoicing). Dates ISO TEXT, timestamps
-- fixed-width UTC TEXT, exact decimals TEXT.

-- The monthly runs made: a month is run once (a re-run finds its row and issues nothing), and
-- only a session of a month that has a row here can be late (else that month's run takes it).
CREATE TABLE invoice_runs (
    month TEXT PRIMARY KEY,
    run_at TEXT NOT NULL
);
INSERT INTO invoice_runs (month, run_at)
    SELECT run_month, min(created_at) FROM invoices WHERE run_month <> '' GROUP BY run_month;
INSERT INTO invoice_runs (month, run_at)
    SELECT month, min(created_at) FROM lease_reimbursements GROUP BY month
    ON CONFLICT (month) DO NOTHING;

-- A session billed late on a monthly invoice, once: the primary key refuses a second copy even
-- from a concurrent run of another month.
CREATE TABLE late_sessions (
    session_id BIGINT PRIMARY KEY REFERENCES sessions (id),
    invoice_id BIGINT NOT NULL REFERENCES invoices (id),
    run_month TEXT NOT NULL
);

-- A guest session is paid out on one credit-note line only (late ones by the next run).
CREATE UNIQUE INDEX invoice_lines_guest_once ON invoice_lines (ref) WHERE kind = 'guest_usage';

-- The lease company's rate over time (the rate in force when a session started applies).
CREATE TABLE lease_driver_rates (
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    since TEXT NOT NULL,
    rate_cents_per_kwh TEXT NOT NULL,
    PRIMARY KEY (account_id, since)
);
INSERT INTO lease_driver_rates (account_id, since, rate_cents_per_kwh)
    SELECT account_id, updated_at, rate_cents_per_kwh FROM lease_drivers;

-- A statement's lines: its month's own home charging and, per earlier month of use, the late
-- sessions, each group at its rate and rounded on its own.
CREATE TABLE reimbursement_groups (
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    month TEXT NOT NULL,
    position INTEGER NOT NULL,
    usage_month TEXT NOT NULL,
    late INTEGER NOT NULL,
    rate_cents_per_kwh TEXT NOT NULL,
    energy_wh BIGINT NOT NULL,
    cents BIGINT NOT NULL,
    PRIMARY KEY (account_id, month, position)
);

-- Each session is reimbursed on one statement only (also across concurrent runs).
CREATE TABLE reimbursed_sessions (
    session_id BIGINT PRIMARY KEY REFERENCES sessions (id),
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    month TEXT NOT NULL
);

-- Payout of a statement: pending until an admin records the bank transfer (date, reference);
-- a paid statement is never changed.
ALTER TABLE lease_reimbursements ADD COLUMN status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'paid'));
ALTER TABLE lease_reimbursements ADD COLUMN paid_on TEXT;
ALTER TABLE lease_reimbursements ADD COLUMN payout_reference TEXT;
ALTER TABLE lease_reimbursements ADD COLUMN paid_at TEXT;
