-- The web portal (backend/portal): login sessions, password resets and installation orders.
-- Session ids and reset tokens are random and stored only as SHA-256 hashes.

CREATE TABLE portal_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT REFERENCES users (id),  -- NULL: not logged in yet (carries the login CSRF)
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX portal_sessions_user ON portal_sessions (user_id);

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

-- backend.billing.installation.InstallationOrder as JSON, plus what the advisor recommended.
CREATE TABLE installation_orders (
    id SERIAL_PK,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    state TEXT NOT NULL,
    detail TEXT NOT NULL,
    advice TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX installation_orders_account ON installation_orders (account_id);
