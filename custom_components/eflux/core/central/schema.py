"""SQLite schema of the central system (the outbox tables come from outbox.py)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS charge_points (
    id TEXT PRIMARY KEY,
    ocpp_version TEXT,
    vendor TEXT,
    model TEXT,
    firmware TEXT,
    serial TEXT,
    configuration TEXT NOT NULL DEFAULT '{}',
    first_seen TEXT NOT NULL,
    last_seen TEXT,
    booted_at TEXT
);
CREATE TABLE IF NOT EXISTS connectors (
    charge_point_id TEXT NOT NULL,
    connector_id INTEGER NOT NULL,
    status TEXT,
    error_code TEXT,
    info TEXT,
    vendor_id TEXT,
    vendor_error_code TEXT,
    status_at TEXT,
    PRIMARY KEY (charge_point_id, connector_id)
);
CREATE TABLE IF NOT EXISTS transactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    charge_point_id TEXT NOT NULL,
    ocpp_id TEXT,
    connector_id INTEGER NOT NULL,
    id_tag TEXT,
    card_status TEXT NOT NULL,
    start_key TEXT,
    started_at TEXT NOT NULL,
    stopped_at TEXT,
    meter_start_wh REAL,
    meter_stop_wh REAL,
    energy_wh REAL NOT NULL DEFAULT 0,
    energy_flagged INTEGER NOT NULL DEFAULT 0,
    stop_reason TEXT,
    last_register_wh REAL,
    last_register_at TEXT,
    orphan INTEGER NOT NULL DEFAULT 0,
    compacted INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS transactions_by_ocpp_id
    ON transactions (charge_point_id, ocpp_id) WHERE orphan = 0;
CREATE UNIQUE INDEX IF NOT EXISTS transactions_by_start_key
    ON transactions (charge_point_id, start_key) WHERE start_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS transactions_open ON transactions (charge_point_id)
    WHERE stopped_at IS NULL;
CREATE TABLE IF NOT EXISTS meter_samples (
    id INTEGER PRIMARY KEY,
    charge_point_id TEXT NOT NULL,
    connector_id INTEGER NOT NULL,
    transaction_record INTEGER,
    ts TEXT NOT NULL,
    context TEXT,
    energy_wh REAL,
    power_w REAL,
    current_l1 REAL, current_l2 REAL, current_l3 REAL,
    voltage_l1 REAL, voltage_l2 REAL, voltage_l3 REAL,
    soc REAL,
    current_offered REAL,
    UNIQUE (charge_point_id, connector_id, ts)
);
CREATE INDEX IF NOT EXISTS meter_samples_by_transaction
    ON meter_samples (transaction_record, ts) WHERE transaction_record IS NOT NULL;
CREATE TABLE IF NOT EXISTS cards (
    uid TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    expires_at TEXT,
    may_start INTEGER NOT NULL,
    version INTEGER NOT NULL,
    group_id TEXT
);
-- AUTOINCREMENT: a reservationId is never handed out twice, even after rows are deleted.
CREATE TABLE IF NOT EXISTS reservations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    charge_point_id TEXT NOT NULL,
    connector_id INTEGER NOT NULL,
    id_tag TEXT NOT NULL,
    parent_id_tag TEXT,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT,
    ended_at TEXT,
    end_reason TEXT,
    transaction_id TEXT
);
CREATE INDEX IF NOT EXISTS reservations_open ON reservations (charge_point_id)
    WHERE ended_at IS NULL;
-- Passwords the central system set by rotation (credentials.py): salted SHA-256, never text.
CREATE TABLE IF NOT EXISTS charger_passwords (
    charge_point_id TEXT PRIMARY KEY,
    salt TEXT NOT NULL,
    digest TEXT NOT NULL,
    previous_salt TEXT,
    previous_digest TEXT,
    replaced_config TEXT NOT NULL,
    rotated_at TEXT NOT NULL
);
-- Cards set through the local API (sitecards.py); uid normalised to upper case.
CREATE TABLE IF NOT EXISTS site_cards (
    uid TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    expires_at TEXT,
    group_id TEXT
);
-- Charge points approved while the boot policy holds new ones Pending (admission.py).
CREATE TABLE IF NOT EXISTS approved_charge_points (
    charge_point_id TEXT PRIMARY KEY,
    approved_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS remote_authorizations (
    uid TEXT PRIMARY KEY,
    status TEXT,
    kind TEXT,
    expires_at TEXT,
    may_start INTEGER,
    known INTEGER NOT NULL,
    fetched_at TEXT NOT NULL,
    group_id TEXT
);
"""

# Columns added after a table's first release: added to older files in place (store.py).
ADDED_COLUMNS = (
    ("cards", "group_id", "TEXT"),
    ("remote_authorizations", "group_id", "TEXT"),
)
