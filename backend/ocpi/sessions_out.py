"""Sessions push (§9.1.1), CPO side: each round PUTs to an eMSP party's Sessions receiver
every session of its tokens at our charge points that changed since it last got it
(running ones as the sites report them, then finished), updated in the last PUSH_WINDOW.
A party that refuses one (2xxx / HTTP 4xx) is logged and that session tried next round; an
unreachable party ends its round (OcpiError)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import quote

from ..storage import Database
from .client import OcpiClient, Refused
from .envelope import timestamp
from .parties import Party
from .sessions import our_sessions
from .settings import OcpiSettings

_LOGGER = logging.getLogger(__name__)
PUSH_WINDOW = timedelta(days=2)
PAGE = 100


async def push_sessions(
    db: Database, settings: OcpiSettings, client: OcpiClient, party: Party, *, now: datetime
) -> int:
    """PUT the party's changed sessions; the number pushed."""
    url = party.endpoint("sessions", "RECEIVER")
    if url is None or party.outgoing_token is None:
        return 0
    if not (party.plays("EMSP") or party.plays("HUB")):  # a hub forwards to its eMSPs
        return 0
    since = now - PUSH_WINDOW
    held = {
        r["session_id"]: r["last_updated"]
        for r in await db.fetch(
            "SELECT session_id, last_updated FROM ocpi_sessions_pushed WHERE party_row = ?"
            " AND last_updated >= ?",
            party.id,
            timestamp(since),  # OCPI times sort as text
        )
    }
    pushed, offset = 0, 0
    while True:
        page, _ = await our_sessions(
            db, settings, party, date_from=since, date_to=None, offset=offset, limit=PAGE
        )
        if not page:
            return pushed
        offset += len(page)
        for session in page:
            if held.get(session["id"]) == session["last_updated"]:
                continue
            sid = quote(session["id"], safe="")
            target = f"{url}/{settings.country_code}/{settings.party_id}/{sid}"
            try:
                await client.call("PUT", target, party.outgoing_token, session)
            except Refused as err:
                _LOGGER.warning("OCPI: %s refused session %s: %s", party.name, session["id"], err)
                continue
            await db.execute(
                "INSERT INTO ocpi_sessions_pushed (party_row, session_id, last_updated)"
                " VALUES (?, ?, ?) ON CONFLICT (party_row, session_id) DO UPDATE SET"
                " last_updated = excluded.last_updated",
                party.id,
                session["id"],
                session["last_updated"],
            )
            held[session["id"]] = session["last_updated"]
            pushed += 1
