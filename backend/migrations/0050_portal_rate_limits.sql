-- The portal's login and password-reset rate limit (backend/portal/ratelimit.py), shared by every
-- back-end process on the database and kept across restarts. One row per key (an e-mail or a
-- client address, stored only as a SHA-256 hash): the attempts counted in its current fixed
-- window and the moment that window ends. Rows past their end are pruned.

CREATE TABLE portal_rate_limits (
    key_hash TEXT PRIMARY KEY,
    hits BIGINT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX portal_rate_limits_expiry ON portal_rate_limits (expires_at);
