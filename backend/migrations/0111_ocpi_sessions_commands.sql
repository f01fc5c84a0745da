-- OCPI 2.2.1 Sessions and Commands (issue 20.2, docs/roaming.md).

-- Commands an eMSP party sent us as CPO (POST /ocpi/2.2.1/commands/{command}), queued for the
-- site whose charge point they act on. The site takes them (GET /api/v1/sync/commands: state
-- queued -> delivered) and reports the charger's answer (done); one still not done at its
-- deadline is answered TIMEOUT. The CommandResult goes to `response_url` once
-- (result_sent_at is claimed before the POST, so two processes never both send it).
CREATE TABLE ocpi_commands (
    id SERIAL_PK,
    party_row BIGINT NOT NULL REFERENCES ocpi_parties (id),
    command TEXT NOT NULL CHECK (command IN ('CANCEL_RESERVATION', 'RESERVE_NOW',
        'START_SESSION', 'STOP_SESSION', 'UNLOCK_CONNECTOR')),
    site_id BIGINT NOT NULL REFERENCES sites (id),
    charge_point_id BIGINT NOT NULL REFERENCES charge_points (id),
    cp_ocpp_id TEXT NOT NULL,
    connector_id INTEGER NOT NULL,
    args TEXT NOT NULL,                -- JSON for the site: id_tag, transaction_id, expiry, ...
    response_url TEXT NOT NULL,
    reservation_id TEXT,               -- the party's reservation id (RESERVE_NOW, CANCEL_...)
    state TEXT NOT NULL CHECK (state IN ('queued', 'delivered', 'done', 'timeout')),
    result TEXT,                       -- CommandResultType
    message TEXT,
    site_reservation_id BIGINT,        -- the reservation id the charger holds (RESERVE_NOW)
    created_at TEXT NOT NULL,
    deadline_at TEXT NOT NULL,
    done_at TEXT,
    result_sent_at TEXT
);
CREATE INDEX ocpi_commands_site ON ocpi_commands (site_id, state);
CREATE INDEX ocpi_commands_reservation ON ocpi_commands (party_row, reservation_id);

-- Commands we sent as eMSP to a CPO party; `uid` is the last segment of the response_url the
-- CPO posts the CommandResult to.
CREATE TABLE ocpi_commands_sent (
    id SERIAL_PK,
    uid TEXT NOT NULL UNIQUE,
    party_row BIGINT NOT NULL REFERENCES ocpi_parties (id),
    command TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT,                     -- CommandResponseType the CPO answered at once
    result TEXT,                       -- CommandResultType it posted later
    message TEXT,
    created_at TEXT NOT NULL,
    result_at TEXT
);

-- Sessions a CPO party pushed to us as eMSP (PUT/PATCH /ocpi/2.2.1/sessions/...): our
-- customers charging elsewhere, live. Billing still goes by CDR.
CREATE TABLE ocpi_sessions_received (
    id SERIAL_PK,
    party_row BIGINT NOT NULL REFERENCES ocpi_parties (id),
    country_code TEXT NOT NULL,
    party_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    last_updated TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (country_code, party_id, session_id)
);
