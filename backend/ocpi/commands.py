"""Commands (§13), CPO side: an eMSP party asks us to start, stop, reserve, cancel a
reservation or unlock a connector at one of our charge points.

The answer at once is a CommandResponse: ACCEPTED when the command names something the party
may act on and it is queued for the site whose charge point it is, else REJECTED (with
status 2003 when the location or EVSE is not one we publish), UNKNOWN_SESSION or
NOT_SUPPORTED. The site takes the command over its cloud channel (GET /api/v1/sync/commands,
site_channel.py), sends it to the charger over OCPP and reports the charger's answer; that
goes to the party's `response_url` as the CommandResult, once. A command the site has not
answered by its deadline is answered TIMEOUT.

A party acts only on what is its own: it starts and reserves with its own tokens, stops only
sessions of its tokens, cancels only its reservations and unlocks a connector only when the
last session there was one of its tokens. The result goes only to a response_url on the
party's own registered host.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import voluptuous as vol

from ..storage import Database, Row, to_db
from .cdrs_in import _aware, _text
from .command_queue import Bell
from .credentials import checked
from .envelope import INVALID_PARAMETERS, SUCCESS, UNKNOWN_LOCATION, OcpiError, dumps
from .parties import Party
from .sessions import find_open, owns_tag
from .tokens import TOKEN

COMMANDS = (
    "CANCEL_RESERVATION",
    "RESERVE_NOW",
    "START_SESSION",
    "STOP_SESSION",
    "UNLOCK_CONNECTOR",
)
# CommandResultType: what the charger's answer became (site_channel checks the site's word).
RESULTS = (
    "ACCEPTED",
    "CANCELED_RESERVATION",
    "EVSE_OCCUPIED",
    "EVSE_INOPERATIVE",
    "FAILED",
    "NOT_SUPPORTED",
    "REJECTED",
    "TIMEOUT",
    "UNKNOWN_RESERVATION",
)
TIMEOUT_S = 90  # the site takes it within seconds, the charger answers within 30 s
_URL = vol.All(str, vol.Length(min=8, max=255), vol.Match(r"^https?://[^\s]+$"))
_ID = _text(36)
SCHEMAS: dict[str, vol.Schema] = {
    "START_SESSION": vol.Schema(
        {
            vol.Required("response_url"): _URL,
            vol.Required("token"): TOKEN,
            vol.Required("location_id"): _ID,
            vol.Optional("evse_uid"): _ID,
            vol.Optional("connector_id"): _ID,
            vol.Optional("authorization_reference"): _ID,
        },
        extra=vol.ALLOW_EXTRA,
    ),
    "STOP_SESSION": vol.Schema(
        {vol.Required("response_url"): _URL, vol.Required("session_id"): _ID},
        extra=vol.ALLOW_EXTRA,
    ),
    "RESERVE_NOW": vol.Schema(
        {
            vol.Required("response_url"): _URL,
            vol.Required("token"): TOKEN,
            vol.Required("expiry_date"): _aware,
            vol.Required("reservation_id"): _ID,
            vol.Required("location_id"): _ID,
            vol.Optional("evse_uid"): _ID,
            vol.Optional("authorization_reference"): _ID,
        },
        extra=vol.ALLOW_EXTRA,
    ),
    "CANCEL_RESERVATION": vol.Schema(
        {vol.Required("response_url"): _URL, vol.Required("reservation_id"): _ID},
        extra=vol.ALLOW_EXTRA,
    ),
    "UNLOCK_CONNECTOR": vol.Schema(
        {
            vol.Required("response_url"): _URL,
            vol.Required("location_id"): _ID,
            vol.Required("evse_uid"): _ID,
            vol.Required("connector_id"): _ID,
        },
        extra=vol.ALLOW_EXTRA,
    ),
}


@dataclass(frozen=True, slots=True)
class Answer:
    """A CommandResponse and the OCPI status (and HTTP status) it goes out with."""

    result: str
    message: str = ""
    code: int = SUCCESS
    http: int = 200

    def body(self) -> dict[str, Any]:
        found: dict[str, Any] = {"result": self.result, "timeout": TIMEOUT_S}
        if self.message:
            found["message"] = [{"language": "en", "text": self.message}]
        return found


@dataclass(frozen=True, slots=True)
class Target:
    site_id: int
    cp_id: int
    ocpp_id: str
    connector_id: int


class Refusal(Exception):
    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.message)
        self.answer = answer


def _unknown(what: str) -> Refusal:
    return Refusal(Answer("REJECTED", f"unknown {what}", UNKNOWN_LOCATION, 404))


async def _evse(db: Database, command: dict[str, Any], *, required: bool) -> Target:
    """The published charge point a location/EVSE/connector names (one connector per EVSE)."""
    location = str(command["location_id"])
    site = location[4:] if location.startswith("SITE") else ""
    if not (site.isascii() and site.isdigit() and len(site) < 18):
        raise _unknown(f"location {location!r}")
    rows = await db.fetch(
        "SELECT cp.id, cp.site_id, cp.ocpp_id FROM charge_points cp JOIN ocpi_site_places p"
        " ON p.site_id = cp.site_id WHERE cp.site_id = ? AND cp.guest_usage = 1 ORDER BY cp.id",
        int(site),
    )
    if not rows:
        raise _unknown(f"location {location!r}")
    evse = command.get("evse_uid")
    if evse is None:
        if required or len(rows) > 1:
            raise Refusal(
                Answer("NOT_SUPPORTED", "name the EVSE (evse_uid): this location has several")
            )
        row = rows[0]
    else:
        found = [r for r in rows if f"CP{r['id']}" == evse]
        if not found:
            raise _unknown(f"EVSE {evse!r} at location {location!r}")
        row = found[0]
    if command.get("connector_id", "1") != "1":
        raise _unknown(f"connector {command['connector_id']!r} (each EVSE has connector 1)")
    return Target(int(row["site_id"]), int(row["id"]), str(row["ocpp_id"]), 1)


def _own_token(party: Party, token: dict[str, Any]) -> None:
    if (token["country_code"], token["party_id"]) not in party.identities():
        raise Refusal(
            Answer(
                "REJECTED",
                f"a token of {token['country_code']}*{token['party_id']}:"
                " a party may only use its own tokens",
            )
        )


async def _keep_token(db: Database, party: Party, token: dict[str, Any], body: Any) -> None:
    """A token first seen in a command (an app user's) is kept, so the site lets it start
    and the session and CDR name it; a token the party pushed stays as pushed."""
    await db.execute(
        "INSERT INTO ocpi_tokens (party_row, country_code, party_id, uid, uid_norm, token_type,"
        " valid, body, last_updated) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)"
        " ON CONFLICT (country_code, party_id, uid, token_type) DO NOTHING",
        party.id,
        token["country_code"],
        token["party_id"],
        token["uid"],
        token["uid"].strip().upper(),
        token["type"],
        dumps(body),
        token["last_updated"],
    )


async def _reservation(db: Database, party: Party, reservation_id: str) -> Row | None:
    """The party's open reservation with that id: its last RESERVE_NOW the charger accepted,
    unless a CANCEL_RESERVATION of it was accepted since."""
    return await db.fetchrow(
        "SELECT r.* FROM ocpi_commands r WHERE r.party_row = ? AND r.reservation_id = ?"
        " AND r.command = 'RESERVE_NOW' AND r.result = 'ACCEPTED'"
        " AND r.site_reservation_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ocpi_commands c"
        " WHERE c.party_row = r.party_row AND c.reservation_id = r.reservation_id"
        " AND c.command = 'CANCEL_RESERVATION' AND c.result = 'ACCEPTED' AND c.id > r.id)"
        " ORDER BY r.id DESC LIMIT 1",
        party.id,
        reservation_id,
    )


async def _plan(
    db: Database, party: Party, name: str, command: dict[str, Any], body: Any, now: datetime
) -> tuple[Target, dict[str, Any]]:
    """Where the command goes and what the site needs to send it; Refusal otherwise."""
    args: dict[str, Any] = {"received_at": now.isoformat()}
    if name in ("START_SESSION", "RESERVE_NOW"):
        token = command["token"]
        _own_token(party, token)
        target = await _evse(db, command, required=False)
        await _keep_token(db, party, token, body["token"])
        args |= {"id_tag": token["uid"]}
        if command.get("authorization_reference"):
            args["authorization_reference"] = command["authorization_reference"]
        if name == "RESERVE_NOW":
            if command["expiry_date"] <= now:
                raise Refusal(Answer("REJECTED", "expiry_date is not in the future"))
            held = await _reservation(db, party, command["reservation_id"])
            args |= {
                "expires_at": command["expiry_date"].isoformat(),
                "replaces": None if held is None else int(held["site_reservation_id"]),
            }
        return target, args
    if name == "STOP_SESSION":
        found = await find_open(db, command["session_id"])
        if found is None:
            raise Refusal(Answer("UNKNOWN_SESSION", "no running session with that id"))
        if not await owns_tag(db, party, found["id_tag"]):
            raise Refusal(Answer("REJECTED", "the session is not one of your tokens"))
        target = Target(
            int(found["site_id"]),
            int(found["charge_point_id"]),
            str(found["ocpp_id"]),
            int(found["connector_id"]),
        )
        return target, args | {"transaction_id": str(found["transaction_id"])}
    if name == "CANCEL_RESERVATION":
        held = await _reservation(db, party, command["reservation_id"])
        if held is None:
            raise Refusal(Answer("REJECTED", "no open reservation of yours with that id"))
        target = Target(
            int(held["site_id"]),
            int(held["charge_point_id"]),
            str(held["cp_ocpp_id"]),
            int(held["connector_id"]),
        )
        return target, args | {"reservation_id": int(held["site_reservation_id"])}
    target = await _evse(db, command, required=True)  # UNLOCK_CONNECTOR
    last = await db.fetchval(
        "SELECT tag FROM (SELECT id_tag AS tag, started_at FROM open_sessions"
        " WHERE charge_point_id = ? UNION ALL SELECT id_tag, started_at FROM sessions"
        " WHERE charge_point_id = ? AND source = 'own_network') AS x"
        " ORDER BY started_at DESC LIMIT 1",
        target.cp_id,
        target.cp_id,
    )
    if not await owns_tag(db, party, last):
        raise Refusal(Answer("REJECTED", "the last session at this EVSE was not of your tokens"))
    return target, args


def _own_host(party: Party, url: str) -> None:
    """We POST results only to the party's own platform (the host of its registered URLs),
    never to an address of its choosing elsewhere (another service, our own network)."""
    theirs = {
        (parts.scheme, parts.netloc.lower())
        for parts in map(urlsplit, [party.versions_url or "", *party.endpoints.values()])
        if parts.netloc
    }
    parts = urlsplit(url)
    if (parts.scheme, parts.netloc.lower()) not in theirs:
        raise Refusal(
            Answer("REJECTED", "response_url must be on your platform (your registered host)")
        )


async def receive_command(
    db: Database, party: Party, name: str, body: Any, bell: Bell, *, now: datetime
) -> Answer:
    """Check the command, queue it for the site and ring the site's poll."""
    if name not in COMMANDS:
        raise OcpiError(INVALID_PARAMETERS, f"unknown command {name[:40]!r}", 404)
    command = checked(SCHEMAS[name], body, name)
    try:
        _own_host(party, command["response_url"])
        target, args = await _plan(db, party, name, command, body, now)
    except Refusal as refused:
        return refused.answer
    await db.execute(
        "INSERT INTO ocpi_commands (party_row, command, site_id, charge_point_id, cp_ocpp_id,"
        " connector_id, args, response_url, reservation_id, state, created_at, deadline_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
        party.id,
        name,
        target.site_id,
        target.cp_id,
        target.ocpp_id,
        target.connector_id,
        json.dumps(args),
        command["response_url"],
        command.get("reservation_id"),
        to_db(now),
        to_db(now + timedelta(seconds=TIMEOUT_S)),
    )
    bell.ring(target.site_id)
    return Answer("ACCEPTED")
