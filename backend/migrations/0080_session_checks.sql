-- Sessions checked at the door (issue 19): who a session is billed to, whether it is
-- plausible, and the review queue for those that are not. Nothing is dropped: a session that
-- fails a rule is stored with review = 'pending' and billed only once accepted or corrected.

-- The most a charge point can deliver (kW); NULL: 22 kW, or 350 kW for a DC fast charger.
ALTER TABLE charge_points ADD COLUMN max_power_kw DOUBLE PRECISION;

-- A card another account's charge point may bill to its owner without being open to guests
-- (a roaming agreement).
ALTER TABLE cards ADD COLUMN roaming_authorized INTEGER NOT NULL DEFAULT 0;

-- flag: 'foreign_card' = a card of another account at a charge point closed to it; the session
-- is on the site owner's account and billed to nobody.
-- review: none (passed the rules), pending (waits for an admin), accepted, corrected, rejected.
ALTER TABLE sessions ADD COLUMN flag TEXT;
ALTER TABLE sessions ADD COLUMN review TEXT NOT NULL DEFAULT 'none'
    CHECK (review IN ('none', 'pending', 'accepted', 'corrected', 'rejected'));
ALTER TABLE sessions ADD COLUMN review_reasons TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_review ON sessions (review, id);

-- An open session of a foreign card, or one that fails a rule, is flagged (never shown to the
-- card's account).
ALTER TABLE open_sessions ADD COLUMN flag TEXT;

-- What a charge point charged guests, over time: a session is priced (and its owner credited)
-- at the tariff in force when it started (art. 28.5), whatever changed after.
CREATE TABLE charge_point_tariffs (
    id SERIAL_PK,
    charge_point_id BIGINT NOT NULL REFERENCES charge_points (id),
    tariff_id BIGINT REFERENCES tariffs (id),
    guest_usage INTEGER NOT NULL,
    valid_from TEXT NOT NULL
);
CREATE INDEX charge_point_tariffs_cp ON charge_point_tariffs (charge_point_id, valid_from);
INSERT INTO charge_point_tariffs (charge_point_id, tariff_id, guest_usage, valid_from)
    SELECT id, tariff_id, guest_usage, created_at FROM charge_points;
