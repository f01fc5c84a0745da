-- Roaming over OCPI 2.2.1 (issue 20.2): the parties we exchange credentials with, what they
-- pushed to us and what we sent them.

-- One row per platform (a hub or an operator). incoming_hash: SHA-256 of the token the party
-- calls us with (token A before registration, then the token C we issued); outgoing_token: the
-- token we call the party with (theirs: A they gave us, then the C they answered). It is kept
-- in clear text because we must send it; the one we accept is only kept hashed.
CREATE TABLE ocpi_parties (
    id SERIAL_PK,
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'registered', 'unregistered')),
    incoming_hash TEXT UNIQUE,
    outgoing_token TEXT,
    versions_url TEXT,
    roles TEXT NOT NULL DEFAULT '[]',      -- JSON: their CredentialsRoles
    endpoints TEXT NOT NULL DEFAULT '{}',  -- JSON: "module/ROLE" -> URL of their 2.2.1 modules
    tokens_pushed_version BIGINT NOT NULL DEFAULT 0,  -- card-list version pushed as Tokens
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- CDRs received by us as eMSP: the body as sent, and the roaming session it
-- became (sessions.origin 'roaming:<CC>*<PID>').
CREATE TABLE ocpi_cdrs_received (
    id SERIAL_PK,
    party_row BIGINT NOT NULL REFERENCES ocpi_parties (id),
    country_code TEXT NOT NULL,
    party_id TEXT NOT NULL,
    cdr_id TEXT NOT NULL,
    session_id BIGINT NOT NULL REFERENCES sessions (id),
    body TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (country_code, party_id, cdr_id)
);

-- Tokens an eMSP party pushed to us as CPO (their cards at our charge points).
CREATE TABLE ocpi_tokens (
    id SERIAL_PK,
    party_row BIGINT NOT NULL REFERENCES ocpi_parties (id),
    country_code TEXT NOT NULL,
    party_id TEXT NOT NULL,
    uid TEXT NOT NULL,
    uid_norm TEXT NOT NULL,  -- upper case, as our sessions' id tags are compared
    token_type TEXT NOT NULL,
    valid INTEGER NOT NULL,
    body TEXT NOT NULL,
    last_updated TEXT NOT NULL,
    UNIQUE (country_code, party_id, uid, token_type)
);
CREATE INDEX ocpi_tokens_uid ON ocpi_tokens (uid_norm);

-- Locations and tariffs pulled from a CPO party (as eMSP), as sent.
CREATE TABLE ocpi_remote_objects (
    party_row BIGINT NOT NULL REFERENCES ocpi_parties (id),
    module TEXT NOT NULL CHECK (module IN ('locations', 'tariffs')),
    object_id TEXT NOT NULL,
    body TEXT NOT NULL,
    last_updated TEXT NOT NULL,
    PRIMARY KEY (party_row, module, object_id)
);

-- CDRs of guest sessions we sent as CPO: one per session and party (sent once).
CREATE TABLE ocpi_cdrs_sent (
    session_id BIGINT NOT NULL REFERENCES sessions (id),
    party_row BIGINT NOT NULL REFERENCES ocpi_parties (id),
    cdr_id TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (session_id, party_row)
);

-- Where a site is, for publishing it as an OCPI Location (address, city, coordinates are
-- required there and the platform does not keep them otherwise).
CREATE TABLE ocpi_site_places (
    site_id BIGINT PRIMARY KEY REFERENCES sites (id),
    address TEXT NOT NULL,
    city TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    country TEXT NOT NULL,  -- ISO 3166-1 alpha-3
    latitude TEXT NOT NULL,
    longitude TEXT NOT NULL
);
