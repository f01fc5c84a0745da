-- Open (running) sessions as each site last reported them (PUT /api/v1/sync/open-sessions).
-- A site's snapshot replaces its previous one whole; `open_snapshots` says when the back end
-- last heard from the site, so a site gone quiet is shown as "last seen …", not as live.

CREATE TABLE open_snapshots (
    site_id BIGINT PRIMARY KEY REFERENCES sites (id),
    taken_at TEXT NOT NULL,     -- the site's clock: an older snapshot never replaces a newer one
    received_at TEXT NOT NULL   -- the back end's clock: what "live" is judged by
);

CREATE TABLE open_sessions (
    id SERIAL_PK,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    charge_point_id BIGINT NOT NULL REFERENCES charge_points (id),
    cp_ocpp_id TEXT NOT NULL,
    connector_id INTEGER NOT NULL,
    transaction_id TEXT NOT NULL,
    id_tag TEXT,                -- normalised card uid; the card is joined when read
    started_at TEXT NOT NULL,
    energy_wh BIGINT NOT NULL,
    power_w BIGINT,
    updated_at TEXT NOT NULL,
    UNIQUE (site_id, cp_ocpp_id, transaction_id)
);
CREATE INDEX open_sessions_charge_point ON open_sessions (charge_point_id);
CREATE INDEX open_sessions_id_tag ON open_sessions (id_tag);
