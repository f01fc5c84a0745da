"""The queue of OCPI commands between the commands receiver and the sites (commands.py
queues, site_channel.py hands out): a site takes its commands once, its answer goes to the
party's response_url once, and a command not answered by its deadline is answered TIMEOUT."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from datetime import datetime
from typing import Any

from ..storage import Database, Row, to_db
from .client import OcpiClient
from .envelope import OcpiError
from .parties import Parties

_LOGGER = logging.getLogger(__name__)


class Bell:
    """Wakes a site's waiting long poll in this process when a command is queued for it
    (another process's poll finds it at its next look at the database)."""

    def __init__(self) -> None:
        self._waiting: dict[int, set[asyncio.Event]] = defaultdict(set)
        self.closed = False

    def ring(self, site_id: int) -> None:
        for event in self._waiting.get(site_id, ()):
            event.set()

    def close(self) -> None:
        """The server is shutting down: every waiting poll answers now."""
        self.closed = True
        for events in self._waiting.values():
            for event in events:
                event.set()

    async def wait(self, site_id: int, seconds: float) -> bool:
        """True when rung within `seconds`."""
        if self.closed:
            return True
        event = asyncio.Event()
        self._waiting[site_id].add(event)
        try:
            async with asyncio.timeout(seconds):
                await event.wait()
            return True
        except TimeoutError:
            return False
        finally:
            self._waiting[site_id].discard(event)
            if not self._waiting[site_id]:
                del self._waiting[site_id]


async def take_commands(db: Database, site_id: int, *, now: datetime) -> list[dict[str, Any]]:
    """The site's queued commands still in time, each handed out once (state delivered)."""
    waiting = await db.fetchval(  # a read first: an idle site's polls write nothing
        "SELECT 1 FROM ocpi_commands WHERE site_id = ? AND state = 'queued' LIMIT 1", site_id
    )
    if waiting is None:
        return []
    rows = await db.fetch(
        "UPDATE ocpi_commands SET state = 'delivered' WHERE site_id = ? AND state = 'queued'"
        " AND deadline_at > ? RETURNING id, command, cp_ocpp_id, connector_id, args",
        site_id,
        to_db(now),
    )
    return [
        {
            "id": int(r["id"]),
            "command": r["command"],
            "charge_point_id": r["cp_ocpp_id"],
            "connector_id": int(r["connector_id"]),
            "args": json.loads(r["args"]),
        }
        for r in sorted(rows, key=lambda r: int(r["id"]))
    ]


async def site_result(
    db: Database,
    client: OcpiClient,
    site_id: int,
    command_id: int,
    result: str,
    message: str | None,
    reservation_id: int | None,
    *,
    now: datetime,
) -> str:
    """The site's word on a command it took: kept, and sent to the party. Returns the state
    (`done`; `timeout` when it came too late and the party was told TIMEOUT); LookupError
    when the command is not this site's."""
    row = await db.fetchrow(
        "UPDATE ocpi_commands SET state = 'done', result = ?, message = ?,"
        " site_reservation_id = ?, done_at = ? WHERE id = ? AND site_id = ?"
        " AND state = 'delivered' RETURNING *",
        result,
        message,
        reservation_id,
        to_db(now),
        command_id,
        site_id,
    )
    if row is None:
        state = await db.fetchval(
            "SELECT state FROM ocpi_commands WHERE id = ? AND site_id = ?", command_id, site_id
        )
        if state is None or state == "queued":
            raise LookupError(f"command {command_id} was not given to this site")
        return str(state)
    await deliver(db, client, row, now=now)
    return "done"


async def deliver(db: Database, client: OcpiClient, row: Row, *, now: datetime) -> bool:
    """POST the CommandResult to the party once (claimed first: never twice, even from two
    processes); a failure is logged, not retried (OCPI requires no retries)."""
    claimed = await db.fetchval(
        "UPDATE ocpi_commands SET result_sent_at = ? WHERE id = ? AND result_sent_at IS NULL"
        " RETURNING id",
        to_db(now),
        row["id"],
    )
    if claimed is None:
        return False
    party = await Parties(db).get(int(row["party_row"]))
    body: dict[str, Any] = {"result": row["result"]}
    if row["message"]:
        body["message"] = [{"language": "en", "text": row["message"]}]
    if party.outgoing_token is None:
        _LOGGER.warning("OCPI: command %s: party %s is not registered", row["id"], party.name)
        return False
    try:
        await client.call("POST", row["response_url"], party.outgoing_token, body)
    except OcpiError as err:
        _LOGGER.warning("OCPI: CommandResult of %s to %s failed: %s", row["id"], party.name, err)
        return False
    return True


async def expire(db: Database, client: OcpiClient, *, now: datetime) -> int:
    """Commands not answered by their deadline: TIMEOUT, sent to their parties."""
    rows = await db.fetch(
        "UPDATE ocpi_commands SET state = 'timeout', result = 'TIMEOUT', done_at = ?,"
        " message = 'the charge point did not answer in time'"
        " WHERE state IN ('queued', 'delivered') AND deadline_at <= ? RETURNING *",
        to_db(now),
        to_db(now),
    )
    for row in rows:
        with contextlib.suppress(LookupError):
            await deliver(db, client, row, now=now)
    return len(rows)
