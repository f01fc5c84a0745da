"""Sessions (§9) both ways.

CPO, Sender interface: a party GETs the sessions of its own tokens at our charge points,
running (ACTIVE, from the sites' open-session snapshots) and finished (COMPLETED, or INVALID
when an admin rejected it in the review queue), filtered on `last_updated` (date_from
inclusive, date_to exclusive) and paginated. A party never sees a session of another
party's token or of our own customers.

eMSP, Receiver interface: a CPO party PUTs and PATCHes the sessions of our cards at its
charge points (live progress for the portal and apps; billing goes by CDR), kept per party.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import voluptuous as vol

from ..storage import Database, Row, from_db, to_db
from .cdrs_in import _amount, _aware, _text
from .cdrs_out import session_id, total_cost
from .cpo import location_id
from .credentials import checked
from .envelope import (
    CLIENT_ERROR,
    INVALID_PARAMETERS,
    SERVER_ERROR,
    OcpiError,
    dumps,
    loads,
    timestamp,
)
from .parties import Party
from .settings import OcpiSettings

STATUSES = ("ACTIVE", "COMPLETED", "INVALID", "PENDING", "RESERVATION")
COMMAND_WINDOW = timedelta(minutes=15)  # a start this close to a START_SESSION came from it

# Running sessions not yet finished, and finished ones, of our own network, with the token of
# the calling party whose uid the session's id tag is (its oldest row when it pushed several
# types of the same uid).
_MINE = """
WITH m AS (
  SELECT 'ACTIVE' AS status, o.charge_point_id AS cp_id, o.transaction_id, o.connector_id,
         o.started_at, NULL AS stopped_at, o.energy_wh, o.updated_at AS last_updated,
         NULL AS start_cents, NULL AS per_kwh_cents, NULL AS per_minute_cents,
         NULL AS tariff_basis, o.id_tag AS tag
  FROM open_sessions o
  WHERE o.id_tag IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sessions f
    WHERE f.charge_point_id = o.charge_point_id AND f.transaction_id = o.transaction_id
    AND f.source = 'own_network')
  UNION ALL
  SELECT CASE WHEN s.review = 'rejected' THEN 'INVALID' ELSE 'COMPLETED' END, s.charge_point_id,
         s.transaction_id, s.connector_id, s.started_at, s.stopped_at, s.energy_wh,
         s.received_at, s.start_cents, s.per_kwh_cents, s.per_minute_cents, s.tariff_basis,
         upper(s.id_tag)
  FROM sessions s
  WHERE s.source = 'own_network' AND s.charge_point_id IS NOT NULL AND s.id_tag IS NOT NULL
)
SELECT {columns} FROM m
JOIN ocpi_tokens t ON t.id = (SELECT MIN(x.id) FROM ocpi_tokens x
  WHERE x.uid_norm = m.tag AND x.party_row = ?)
JOIN charge_points cp ON cp.id = m.cp_id
WHERE m.last_updated >= ? AND m.last_updated < ?
"""
_COLUMNS = "m.*, t.body AS token, cp.site_id"
_FAR = "9999-12-31T23:59:59.999999Z"


def when(text: str, name: str) -> datetime:
    try:
        moment: datetime = _aware(text)
    except vol.Invalid as err:
        raise OcpiError(INVALID_PARAMETERS, f"{name}: {err}") from None
    return moment


async def our_sessions(
    db: Database,
    settings: OcpiSettings,
    party: Party,
    *,
    date_from: datetime,
    date_to: datetime | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """A page of the party's sessions at our charge points, oldest update first; the total."""
    span = (party.id, to_db(date_from), to_db(date_to) if date_to else _FAR)
    total = await db.fetchval(_MINE.format(columns="COUNT(*)"), *span)
    rows = await db.fetch(
        _MINE.format(columns=_COLUMNS)
        + " ORDER BY m.last_updated, m.cp_id, m.transaction_id LIMIT ? OFFSET ?",
        *span,
        limit,
        offset,
    )
    starts = await _starts(db, party, {int(r["cp_id"]) for r in rows})
    return [session_object(settings, row, starts.get(int(row["cp_id"]), [])) for row in rows], int(
        total or 0
    )


async def _starts(db: Database, party: Party, cps: set[int]) -> dict[int, list[dict[str, Any]]]:
    """The party's accepted START_SESSION commands at these charge points (their args)."""
    if not cps:
        return {}
    marks = ", ".join("?" * len(cps))
    rows = await db.fetch(
        "SELECT charge_point_id, args FROM ocpi_commands WHERE party_row = ?"  # noqa: S608
        " AND command = 'START_SESSION' AND result = 'ACCEPTED'"
        f" AND charge_point_id IN ({marks}) ORDER BY id",  # placeholders only
        party.id,
        *sorted(cps),
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(int(row["charge_point_id"]), []).append(json.loads(row["args"]))
    return found


async def find_open(db: Database, wanted: str) -> Row | None:
    """A running session at our charge points by its OCPI id (STOP_SESSION's target)."""
    sql = (
        "SELECT o.charge_point_id, o.transaction_id, o.connector_id, o.site_id, cp.ocpp_id,"
        " o.id_tag FROM open_sessions o JOIN charge_points cp ON cp.id = o.charge_point_id"
    )
    cp_id = _cp_of(wanted)
    rows = await (
        db.fetch(sql + " WHERE o.charge_point_id = ?", cp_id)
        if cp_id is not None
        else db.fetch(sql)  # a hashed id: one in our own id form names its charge point
    )
    for row in rows:
        if session_id(int(row["charge_point_id"]), str(row["transaction_id"])) == wanted:
            return row
    return None


async def owns_tag(db: Database, party: Party, id_tag: str | None) -> bool:
    """Whether `id_tag` is one of the party's tokens (pushed, or used in a command)."""
    if not id_tag:
        return False
    found = await db.fetchval(
        "SELECT 1 FROM ocpi_tokens WHERE party_row = ? AND uid_norm = ? LIMIT 1",
        party.id,
        id_tag.strip().upper(),
    )
    return found is not None


def _cp_of(wanted: str) -> int | None:
    """The charge point an `E<cp>T<transaction>` id names (None: a hashed id)."""
    if not wanted.startswith("E"):
        return None
    digits = wanted[1:].partition("T")[0]
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) < 18 else -1


def session_object(
    settings: OcpiSettings, row: Row, starts: list[dict[str, Any]]
) -> dict[str, Any]:
    """The OCPI Session of one row of `_MINE`; `starts`: the party's accepted START_SESSION
    commands at its charge point, oldest first (the session's auth_method, reference)."""
    token = json.loads(row["token"])
    started = from_db(row["started_at"])
    assert started is not None
    found: dict[str, Any] = {
        "country_code": settings.country_code,
        "party_id": settings.party_id,
        "id": session_id(int(row["cp_id"]), str(row["transaction_id"])),
        "start_date_time": timestamp(started),
        "kwh": Decimal(int(row["energy_wh"])) / 1000,
        "cdr_token": {
            key: token[key] for key in ("country_code", "party_id", "uid", "type", "contract_id")
        },
        "auth_method": "WHITELIST",
        "location_id": location_id(int(row["site_id"])),
        "evse_uid": f"CP{row['cp_id']}",
        "connector_id": "1",
        "currency": "EUR",
        "status": row["status"],
        "last_updated": timestamp(from_db(row["last_updated"])),
    }
    if row["stopped_at"] is not None:
        found["end_date_time"] = timestamp(from_db(row["stopped_at"]))
        found["total_cost"] = total_cost(row)
    for command in reversed(starts):  # the last one that started it
        sent = datetime.fromisoformat(command["received_at"])
        if command["id_tag"].upper() == row["tag"] and abs(sent - started) <= COMMAND_WINDOW:
            found["auth_method"] = "COMMAND"
            if command.get("authorization_reference"):
                found["authorization_reference"] = command["authorization_reference"]
            break
    return found


# ---- eMSP: sessions of our cards that a CPO party pushes -----------------------------------------
_TOKEN = vol.Schema(
    {
        vol.Required("country_code"): vol.All(str, vol.Match(r"^[A-Z]{2}$")),
        vol.Required("party_id"): vol.All(str, vol.Match(r"^[A-Z0-9]{3}$")),
        vol.Required("uid"): _text(36),
        vol.Required("type"): vol.In(["AD_HOC_USER", "APP_USER", "OTHER", "RFID"]),
        vol.Required("contract_id"): _text(36),
    },
    extra=vol.ALLOW_EXTRA,
)
_PRICE = vol.Schema(
    {
        vol.Required("excl_vat"): _amount(Decimal(1_000_000)),
        vol.Optional("incl_vat"): _amount(Decimal(1_000_000)),
    }
)
SESSION = vol.Schema(
    {
        vol.Required("country_code"): vol.All(str, vol.Match(r"^[A-Z]{2}$")),
        vol.Required("party_id"): vol.All(str, vol.Match(r"^[A-Z0-9]{3}$")),
        vol.Required("id"): _text(36),
        vol.Required("start_date_time"): _aware,
        vol.Optional("end_date_time"): _aware,
        vol.Required("kwh"): _amount(Decimal(100_000)),
        vol.Required("cdr_token"): _TOKEN,
        vol.Required("auth_method"): vol.In(["AUTH_REQUEST", "COMMAND", "WHITELIST"]),
        vol.Optional("authorization_reference"): _text(36),
        vol.Required("location_id"): _text(36),
        vol.Required("evse_uid"): _text(36),
        vol.Required("connector_id"): _text(36),
        vol.Optional("meter_id"): vol.All(str, vol.Length(max=255)),
        vol.Required("currency"): vol.All(str, vol.Match(r"^[A-Z]{3}$")),
        vol.Optional("charging_periods"): vol.All(list, vol.Length(max=10_000)),
        vol.Optional("total_cost"): _PRICE,
        vol.Required("status"): vol.In(STATUSES),
        vol.Required("last_updated"): _aware,
    },
    extra=vol.ALLOW_EXTRA,
)
_KEY = ("country_code", "party_id", "id")


def _check(
    settings: OcpiSettings, party: Party, path: tuple[str, str, str], body: Any
) -> dict[str, Any]:
    session: dict[str, Any] = checked(SESSION, body, "session")
    if tuple(session[k] for k in _KEY) != path:
        raise OcpiError(
            INVALID_PARAMETERS, "the session's country_code/party_id/id differ from the URL"
        )
    if path[:2] not in party.identities():
        raise OcpiError(
            INVALID_PARAMETERS,
            f"{path[0]}*{path[1]} is not this party: a party may only push its own sessions",
        )
    token = session["cdr_token"]
    if (token["country_code"], token["party_id"]) != (settings.country_code, settings.party_id):
        raise OcpiError(
            INVALID_PARAMETERS,
            f"the session's token is of {token['country_code']}*{token['party_id']},"
            f" not one of ours ({settings.operator})",
        )
    return session


async def put_session(
    db: Database,
    settings: OcpiSettings,
    party: Party,
    path: tuple[str, str, str],
    body: Any,
    *,
    now: datetime,
) -> None:
    """PUT: the session as sent replaces what we hold (charging periods included)."""
    session = _check(settings, party, path, body)
    await db.execute(
        "INSERT INTO ocpi_sessions_received (party_row, country_code, party_id, session_id,"
        " status, body, last_updated, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (country_code, party_id, session_id) DO UPDATE SET"
        " party_row = excluded.party_row, status = excluded.status, body = excluded.body,"
        " last_updated = excluded.last_updated, received_at = excluded.received_at",
        party.id,
        *path,
        session["status"],
        dumps(body),
        to_db(session["last_updated"]),
        to_db(now),
    )


async def patch_session(
    db: Database,
    settings: OcpiSettings,
    party: Party,
    path: tuple[str, str, str],
    body: Any,
    *,
    now: datetime,
) -> None:
    """PATCH: the fields sent replace ours, except `charging_periods`, which are added to the
    list; `last_updated` is required; the result must still be a whole valid session."""
    if not isinstance(body, dict) or not isinstance(body.get("last_updated"), str):
        raise OcpiError(INVALID_PARAMETERS, "a PATCH of a session is an object with last_updated")
    for _ in range(10):  # optimistic: the stored body must not change under us
        row = await db.fetchrow(
            "SELECT id, body FROM ocpi_sessions_received WHERE party_row = ?"
            " AND country_code = ? AND party_id = ? AND session_id = ?",
            party.id,
            *path,
        )
        if row is None:
            raise OcpiError(CLIENT_ERROR, "unknown session: PUT it first", 404)
        held = loads(row["body"])  # exact numbers, as the schema wants them
        merged = {**held, **body}
        added = body.get("charging_periods")
        if isinstance(added, list):
            merged["charging_periods"] = list(held.get("charging_periods") or []) + added
        elif "charging_periods" in body:
            raise OcpiError(INVALID_PARAMETERS, "charging_periods is a list")
        session = _check(settings, party, path, merged)
        changed = await db.fetchval(
            "UPDATE ocpi_sessions_received SET status = ?, body = ?, last_updated = ?,"
            " received_at = ? WHERE id = ? AND body = ? RETURNING id",
            session["status"],
            dumps(merged),
            to_db(session["last_updated"]),
            to_db(now),
            row["id"],
            row["body"],
        )
        if changed is not None:
            return
    raise OcpiError(SERVER_ERROR, "the session kept changing; send the PATCH again", 503)


async def received_session(db: Database, party: Party, path: tuple[str, str, str]) -> Any:
    row = await db.fetchrow(
        "SELECT body FROM ocpi_sessions_received WHERE party_row = ? AND country_code = ?"
        " AND party_id = ? AND session_id = ?",
        party.id,
        *path,
    )
    return None if row is None else loads(row["body"])
