"""One round with every registered party: push our tokens, push the sessions of theirs at our
charge points that changed, send pending CDRs, pull their locations and tariffs; before it,
commands past their deadline are answered TIMEOUT.
The app runs it every `sync_interval_s`; `eflux-backend ocpi sync` once.
A party that fails is logged and tried again next round; the others go on."""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import datetime
from typing import Any

from ..storage import Database
from ..store import Store
from .cdrs_out import send_cdrs
from .client import OcpiClient
from .command_queue import expire
from .envelope import OcpiError, dumps
from .parties import Parties, Party
from .sessions_out import push_sessions
from .settings import OcpiSettings
from .tokens import push_tokens

_LOGGER = logging.getLogger(__name__)


async def pull(db: Database, client: OcpiClient, party: Party, module: str) -> int:
    """A CPO party's locations or tariffs, kept as sent (replaced on each pull)."""
    url = party.endpoint(module, "SENDER")
    if url is None or party.outgoing_token is None or not party.plays("CPO"):
        return 0
    items = await client.get_all(url, party.outgoing_token)
    kept = 0
    for item in items:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("id"), str)
            or not 0 < len(item["id"]) <= 36
        ):
            _LOGGER.warning("OCPI: %s sent a %s object without a valid id", party.name, module)
            continue
        await db.execute(
            "INSERT INTO ocpi_remote_objects (party_row, module, object_id, body, last_updated)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (party_row, module, object_id) DO UPDATE SET"
            " body = excluded.body, last_updated = excluded.last_updated",
            party.id,
            module,
            item["id"],
            dumps(item),
            str(item.get("last_updated", ""))[:40],
        )
        kept += 1
    return kept


async def sync_round(
    store: Store, settings: OcpiSettings, client: OcpiClient, *, now: datetime
) -> Counter[str]:
    parties = Parties(store.db)
    done: Counter[str] = Counter()
    timed_out = await expire(store.db, client, now=now)  # commands no site answered in time
    if timed_out:
        done["command_timeouts"] += timed_out
    for party in await parties.registered():
        try:
            done["tokens"] += await push_tokens(store.db, parties, settings, client, party, now=now)
            done["sessions"] += await push_sessions(store.db, settings, client, party, now=now)
            done["cdrs"] += await send_cdrs(store.db, settings, client, party, now=now)
            for module in ("locations", "tariffs"):
                done[module] += await pull(store.db, client, party, module)
        except OcpiError as err:
            done["failed"] += 1
            _LOGGER.warning("OCPI: round with %s failed: %s", party.name, err)
    return done


async def remote_objects(db: Database, party_row: int, module: str) -> list[Any]:
    rows = await db.fetch(
        "SELECT body FROM ocpi_remote_objects WHERE party_row = ? AND"
        " module = ? ORDER BY object_id",
        party_row,
        module,
    )
    return [json.loads(r["body"]) for r in rows]
