"""`eflux-backend ocpi command …`: as eMSP, ask a CPO party to act for one of our cards.

    eflux-backend ocpi command start --to 2 --card 04A1B2 --location SITE3 [--evse CP5]
    eflux-backend ocpi command stop --to 2 --session E5T1234
    eflux-backend ocpi command reserve --to 2 --card 04A1B2 --location SITE3 --evse CP5 \\
        --reservation R-17 --until 2026-11-03T18:00:00+01:00
    eflux-backend ocpi command cancel --to 2 --reservation R-17
    eflux-backend ocpi command unlock --to 2 --location SITE3 --evse CP5 [--connector 1]
    eflux-backend ocpi command-status --uid <uid printed by command>

`command` prints the CPO's answer at once (`response`: ACCEPTED, REJECTED, UNKNOWN_SESSION,
NOT_SUPPORTED; `timeout` in seconds); the charger's result reaches the running back end at
our response URL later, and `command-status` shows it.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from ..storage.timefmt import utc_now
from ..store import Store, normalise_uid
from .client import OcpiClient
from .commands_out import command_state, send_command
from .envelope import timestamp
from .parties import Parties
from .settings import OcpiSettings
from .tokens import card_token

VERBS = {
    "start": "START_SESSION",
    "stop": "STOP_SESSION",
    "reserve": "RESERVE_NOW",
    "cancel": "CANCEL_RESERVATION",
    "unlock": "UNLOCK_CONNECTOR",
}
_NEEDS = {
    "start": ("card", "location"),
    "stop": ("session",),
    "reserve": ("card", "location", "reservation", "until"),
    "cancel": ("reservation",),
    "unlock": ("location", "evse"),
}


def add_parsers(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = verbs.add_parser("command", help="ask a CPO party to act for one of our cards")
    cmd.add_argument("what", choices=sorted(VERBS))
    cmd.add_argument("--to", type=int, required=True, help="the party's number (ocpi parties)")
    cmd.add_argument("--card", help="our card's uid (start, reserve)")
    cmd.add_argument("--location", help="the CPO's Location id")
    cmd.add_argument("--evse", help="the EVSE uid at that location")
    cmd.add_argument("--connector", help="the connector id (unlock: default 1)")
    cmd.add_argument("--session", help="the CPO's Session id (stop)")
    cmd.add_argument("--reservation", help="our reservation id (reserve, cancel)")
    cmd.add_argument("--until", help="end of the reservation, ISO 8601 with a zone")
    status = verbs.add_parser("command-status", help="what became of a command we sent")
    status.add_argument("--uid", required=True)


async def _token(store: Store, settings: OcpiSettings, uid: str) -> dict[str, Any]:
    row = await store.db.fetchrow(
        "SELECT id, uid, status, account_id, version FROM cards WHERE upper(uid) = ?",
        normalise_uid(uid),
    )
    if row is None:
        raise SystemExit(f"eflux-backend ocpi command: no card {uid!r}")
    token = card_token(settings, row, utc_now())
    if not token["valid"]:  # the eMSP authorizes before it asks (OCPI 2.2.1 §13.3.5)
        raise SystemExit(f"eflux-backend ocpi command: card {uid!r} is not active")
    return token


def _until(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"eflux-backend ocpi command: --until {text!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        raise SystemExit("eflux-backend ocpi command: --until needs a zone (Z or +01:00)")
    return timestamp(moment)


async def _body(args: argparse.Namespace, store: Store, settings: OcpiSettings) -> dict[str, Any]:
    missing = [f"--{name}" for name in _NEEDS[args.what] if not getattr(args, name)]
    if missing:
        raise SystemExit(f"eflux-backend ocpi command {args.what}: give {', '.join(missing)}")
    body: dict[str, Any] = {}
    if args.card:
        body["token"] = await _token(store, settings, args.card)
    for flag, field in (
        ("location", "location_id"),
        ("evse", "evse_uid"),
        ("connector", "connector_id"),
        ("session", "session_id"),
        ("reservation", "reservation_id"),
    ):
        if getattr(args, flag):
            body[field] = getattr(args, flag)
    if args.what == "unlock":
        body.setdefault("connector_id", "1")
    if args.until:
        body["expiry_date"] = _until(args.until)
    return body


async def run(
    args: argparse.Namespace, store: Store, client: OcpiClient, settings: OcpiSettings | None
) -> int:
    """`command` (needs our settings: the response URL is ours) or `command-status`."""
    if args.ocpi_command == "command-status":
        state = await command_state(store.db, args.uid)
        if state is None:
            raise SystemExit(f"eflux-backend ocpi command-status: no command {args.uid!r}")
        print(json.dumps(state, indent=2))
        return 0
    assert settings is not None
    try:
        party = await Parties(store.db).get(args.to)
    except LookupError as err:
        raise SystemExit(f"eflux-backend ocpi command: {err}") from None
    body = await _body(args, store, settings)
    sent = await send_command(
        store.db, settings, client, party, VERBS[args.what], body, now=utc_now()
    )
    print(
        json.dumps(
            {
                "uid": sent.uid,
                "response": sent.response,
                "timeout": sent.timeout,
                "message": sent.message,
            },
            indent=2,
        )
    )
    return 0 if sent.response == "ACCEPTED" else 1
