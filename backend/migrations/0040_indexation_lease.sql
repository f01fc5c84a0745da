-- Invoicing inputs 0010 did not keep: CPI indexations (art. 9.1, 12.1, 13.3) and lease drivers'
-- home-charging reimbursement (seed 002), with the reimbursements each month's run computed.
-- Exact decimals are TEXT (Decimal), dates ISO TEXT, timestamps fixed-width UTC TEXT.

-- One indexation per published indexation date; the run applies every one in force.
CREATE TABLE cpi_indexations (
    id SERIAL_PK,
    cpi_percent TEXT NOT NULL,
    planned_on TEXT NOT NULL UNIQUE,
    announced_on TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- A lease driver's reimbursement terms: their own charge point, the lease company's rate per
-- kWh, the checked IBAN (NULL until entered) and the day the charge point became active.
CREATE TABLE lease_drivers (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id),
    charge_point_id BIGINT NOT NULL REFERENCES charge_points (id),
    rate_cents_per_kwh TEXT NOT NULL,
    iban TEXT,
    active_from TEXT,
    updated_at TEXT NOT NULL
);

-- The reimbursement a month's run computed, once per driver and month (a re-run adds nothing).
CREATE TABLE lease_reimbursements (
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    month TEXT NOT NULL,
    energy_wh BIGINT NOT NULL,
    cents BIGINT NOT NULL,
    rate_cents_per_kwh TEXT NOT NULL,
    iban TEXT,
    session_ids TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, month)
);

-- Guest sessions the guest's MSP did not pay for (art. 28.7): their payout is capped at the
-- owner's electricity cost (`guest_owner_settings`, 0010).
CREATE TABLE guest_unrecovered_sessions (
    session_id BIGINT PRIMARY KEY REFERENCES sessions (id),
    flagged_at TEXT NOT NULL
);
