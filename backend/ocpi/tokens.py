"""Tokens (§12): as eMSP we push our cards to CPO parties; as CPO we keep the tokens pushed.

Every card change takes the next card-list version (backend.store.cards), so a party's
`tokens_pushed_version` says what it has: a push sends the cards changed after it, in version
order, and records progress after each card (a failure resumes there). A lost, blocked,
expired or unassigned card goes out as `valid: false`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import voluptuous as vol

from ..storage import Database, Row
from ..store import CardKind, CardStatus, ListedCard, normalise_uid
from .client import OcpiClient
from .credentials import checked
from .envelope import (
    INVALID_PARAMETERS,
    SERVER_ERROR,
    UNKNOWN_TOKEN,
    OcpiError,
    dumps,
    loads,
    timestamp,
)
from .parties import Parties, Party
from .settings import OcpiSettings

PAGE = 200
TOKEN_TYPES = ("AD_HOC_USER", "APP_USER", "OTHER", "RFID")
_TEXT36 = vol.All(str, vol.Length(min=1, max=36), vol.Match(r"^[^\x00-\x1f]+$"))
TOKEN = vol.Schema(
    {
        vol.Required("country_code"): vol.All(str, vol.Match(r"^[A-Z]{2}$")),
        vol.Required("party_id"): vol.All(str, vol.Match(r"^[A-Z0-9]{3}$")),
        vol.Required("uid"): _TEXT36,
        vol.Required("type"): vol.In(TOKEN_TYPES),
        vol.Required("contract_id"): _TEXT36,
        vol.Required("issuer"): vol.All(str, vol.Length(min=1, max=64)),
        vol.Required("valid"): bool,
        vol.Required("whitelist"): vol.In(["ALWAYS", "ALLOWED", "ALLOWED_OFFLINE", "NEVER"]),
        vol.Required("last_updated"): vol.All(str, vol.Length(min=20, max=40)),
    },
    extra=vol.ALLOW_EXTRA,
)


def card_token(settings: OcpiSettings, row: Row, now: datetime) -> dict[str, Any]:
    valid = row["status"] == "active" and row["account_id"] is not None
    return {
        "country_code": settings.country_code,
        "party_id": settings.party_id,
        "uid": row["uid"],
        "type": "RFID",
        "contract_id": f"{settings.country_code}-{settings.party_id}-C{int(row['id']):08d}",
        "issuer": settings.name,
        "valid": valid,
        "whitelist": "ALLOWED",
        "last_updated": timestamp(now),
    }


async def push_tokens(
    db: Database,
    parties: Parties,
    settings: OcpiSettings,
    client: OcpiClient,
    party: Party,
    *,
    now: datetime,
) -> int:
    """PUT every card changed since the party's last push; the number pushed."""
    url = party.endpoint("tokens", "RECEIVER")
    if url is None or party.outgoing_token is None:
        return 0
    pushed, version = 0, party.tokens_pushed_version
    while True:
        rows = await db.fetch(
            "SELECT id, uid, status, account_id, version FROM cards WHERE version > ?"
            " ORDER BY version LIMIT ?",
            version,
            PAGE,
        )
        if not rows:
            return pushed
        for row in rows:
            target = (
                f"{url}/{settings.country_code}/{settings.party_id}/"
                f"{quote(row['uid'], safe='')}?type=RFID"
            )
            await client.call("PUT", target, party.outgoing_token, card_token(settings, row, now))
            version = int(row["version"])
            await parties.set_tokens_pushed(party.id, version)
            pushed += 1


async def store_token(
    db: Database, party: Party, path: tuple[str, str, str], token_type: str, body: Any
) -> None:
    """CPO side: PUT /tokens/{country_code}/{party_id}/{uid}: kept as sent (upsert)."""
    token = checked(TOKEN, body, "token")
    if (token["country_code"], token["party_id"], token["uid"]) != path:
        raise OcpiError(
            INVALID_PARAMETERS, "the token's country_code/party_id/uid differ from the URL"
        )
    if token_type != token["type"]:
        raise OcpiError(INVALID_PARAMETERS, f"?type={token_type} but the token is {token['type']}")
    if path[:2] not in party.identities():
        raise OcpiError(
            INVALID_PARAMETERS,
            f"{path[0]}*{path[1]} is not this party: a party may only push its own tokens",
        )
    await db.execute(
        "INSERT INTO ocpi_tokens (party_row, country_code, party_id, uid, uid_norm, token_type,"
        " valid, body, last_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (country_code, party_id, uid, token_type) DO UPDATE SET"
        " valid = excluded.valid, body = excluded.body, last_updated = excluded.last_updated",
        party.id,
        *path,
        normalise_uid(token["uid"]),
        token["type"],
        int(token["valid"]),
        dumps(body),
        token["last_updated"],
    )


async def patch_token(
    db: Database, party: Party, path: tuple[str, str, str], token_type: str, body: Any
) -> None:
    """CPO side: PATCH /tokens/{country_code}/{party_id}/{uid}: the fields sent replace the
    stored ones (`last_updated` required); the result must still be a whole valid token of
    the same key. A PUT between our read and write makes the PATCH apply to the new token."""
    if not isinstance(body, dict) or not body:
        raise OcpiError(INVALID_PARAMETERS, "a PATCH body is a JSON object of token fields")
    if not isinstance(body.get("last_updated"), str):
        raise OcpiError(INVALID_PARAMETERS, "a PATCH of a token carries last_updated")
    for _ in range(10):  # optimistic: the stored body must not change under us
        row = await db.fetchrow(
            "SELECT id, body FROM ocpi_tokens WHERE party_row = ? AND country_code = ?"
            " AND party_id = ? AND uid = ? AND token_type = ?",
            party.id,
            *path,
            token_type,
        )
        if row is None:
            raise OcpiError(UNKNOWN_TOKEN, "unknown token: PUT it first", 404)
        merged = {**loads(row["body"]), **body}
        token = checked(TOKEN, merged, "token")
        if (token["country_code"], token["party_id"], token["uid"], token["type"]) != (
            *path,
            token_type,
        ):
            raise OcpiError(
                INVALID_PARAMETERS, "country_code, party_id, uid and type cannot be patched"
            )
        changed = await db.fetchval(
            "UPDATE ocpi_tokens SET valid = ?, body = ?, last_updated = ? WHERE id = ?"
            " AND body = ? RETURNING id",
            int(token["valid"]),
            dumps(merged),
            token["last_updated"],
            row["id"],
            row["body"],
        )
        if changed is not None:
            return
    raise OcpiError(SERVER_ERROR, "the token kept changing; send the PATCH again", 503)


async def stored_token(
    db: Database, party: Party, path: tuple[str, str, str], token_type: str
) -> Any:
    row = await db.fetchrow(
        "SELECT body FROM ocpi_tokens WHERE party_row = ? AND country_code = ? AND party_id = ?"
        " AND uid = ? AND token_type = ?",
        party.id,
        *path,
        token_type,
    )
    return None if row is None else row["body"]


async def valid_token(db: Database, uid: str) -> bool | None:
    """Whether a roaming party's token may charge here (None: no party pushed it)."""
    rows = await db.fetch("SELECT valid FROM ocpi_tokens WHERE uid_norm = ?", normalise_uid(uid))
    return None if not rows else any(bool(r["valid"]) for r in rows)


async def roaming_card(db: Database, uid: str) -> ListedCard | None:
    """A roaming party's token as a site's card list would hold it (None: nobody pushed it),
    for a guest at a charge point open to guests: may start while the eMSP says it is valid."""
    valid = await valid_token(db, uid)
    if valid is None:
        return None
    status = CardStatus.ACTIVE if valid else CardStatus.BLOCKED
    return ListedCard(normalise_uid(uid), status, CardKind.SUBSCRIPTION, None, valid)
