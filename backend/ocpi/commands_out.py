"""Commands (§13), eMSP side: we ask a CPO party to act at one of its charge points for our
customer, and it posts the charger's answer to the response_url we gave, which names the
command (`…/commands/{command}/{uid}`, uid random): only that party may post it there.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import voluptuous as vol

from ..storage import Database, to_db
from .client import OcpiClient
from .commands import COMMANDS, RESULTS
from .credentials import checked
from .envelope import CLIENT_ERROR, OcpiError
from .parties import Party
from .settings import OcpiSettings

RESULT = vol.Schema(
    {
        vol.Required("result"): vol.In(RESULTS),
        vol.Optional("message"): vol.All(
            [
                vol.Schema(
                    {
                        vol.Required("language"): vol.All(str, vol.Length(min=2, max=2)),
                        vol.Required("text"): vol.All(str, vol.Length(max=512)),
                    }
                )
            ],
            vol.Length(max=10),
        ),
    },
    extra=vol.ALLOW_EXTRA,
)
RESPONSES = ("ACCEPTED", "NOT_SUPPORTED", "REJECTED", "UNKNOWN_SESSION")


@dataclass(frozen=True, slots=True)
class Sent:
    uid: str
    response: str  # the CPO's CommandResponse.result, or REJECTED when it refused the call
    timeout: int | None
    message: str | None


def _text(messages: Any) -> str | None:
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        return str(messages[0].get("text", ""))[:512] or None
    return None


async def send_command(
    db: Database,
    settings: OcpiSettings,
    client: OcpiClient,
    party: Party,
    command: str,
    body: dict[str, Any],
    *,
    now: datetime,
) -> Sent:
    """POST the command (without response_url: ours is added) to the party's commands
    receiver; the result arrives later at `result_of(uid)`."""
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}")
    url = party.endpoint("commands", "RECEIVER")
    if url is None or party.outgoing_token is None:
        raise OcpiError(CLIENT_ERROR, f"{party.name} offers no commands receiver", 400)
    uid = secrets.token_hex(12)
    request = {**body, "response_url": f"{settings.version_url}/commands/{command}/{uid}"}
    await db.execute(
        "INSERT INTO ocpi_commands_sent (uid, party_row, command, request, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        uid,
        party.id,
        command,
        json.dumps(request),
        to_db(now),
    )
    try:
        answer = await client.call("POST", f"{url}/{command}", party.outgoing_token, request)
        response, timeout, message = _response(answer)
    except OcpiError as err:  # refused (2003 unknown location, 2001, ...) or unreachable
        response, timeout, message = "REJECTED", None, err.message[:512]
    await db.execute(
        "UPDATE ocpi_commands_sent SET response = ?, message = ? WHERE uid = ?",
        response,
        message,
        uid,
    )
    return Sent(uid, response, timeout, message)


def _response(answer: Any) -> tuple[str, int | None, str | None]:
    if not isinstance(answer, dict) or answer.get("result") not in RESPONSES:
        return "REJECTED", None, "the CPO's answer is not a CommandResponse"
    timeout = answer.get("timeout")
    return (
        str(answer["result"]),
        timeout if isinstance(timeout, int) and not isinstance(timeout, bool) else None,
        _text(answer.get("message")),
    )


async def receive_result(
    db: Database, party: Party, command: str, uid: str, body: Any, *, now: datetime
) -> None:
    """The CPO's CommandResult for a command we sent it (a later one replaces it: a
    reservation the CPO cancels is posted to the same URL as CANCELED_RESERVATION)."""
    result = checked(RESULT, body, "CommandResult")
    changed = await db.fetchval(
        "UPDATE ocpi_commands_sent SET result = ?, message = ?, result_at = ?"
        " WHERE uid = ? AND command = ? AND party_row = ? RETURNING id",
        result["result"],
        _text(result.get("message")),
        to_db(now),
        uid,
        command,
        party.id,
    )
    if changed is None:
        raise OcpiError(CLIENT_ERROR, "no command of ours to you at this URL", 404)


async def command_state(db: Database, uid: str) -> dict[str, Any] | None:
    row = await db.fetchrow(
        "SELECT uid, party_row, command, response, result, message, created_at, result_at"
        " FROM ocpi_commands_sent WHERE uid = ?",
        uid,
    )
    return None if row is None else dict(row)
