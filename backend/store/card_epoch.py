"""The card list's epoch: a random id of its history, changed when that history is cut.

Versions alone cannot tell a site that the cloud went back in time: after a restore from a
backup the counter repeats numbers the site has already seen, with other changes behind them.
The epoch names the history. It is created on first use, rotated by the operator after a
restore (`eflux-backend rotate-card-epoch`) and rotated by the cloud itself when a site asks for
changes after a version the counter has not reached (the surest sign of a restore). A site on
another epoch gets the full list and replaces its own, as OCPP's SendLocalList "Full" does.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from ..storage import Queries, to_db
from .audit import AuditLog


@dataclass(frozen=True, slots=True)
class CardEpoch:
    epoch: str
    started_version: int  # the counter when this epoch began
    previous: str | None = None  # set by a rotation


def new_epoch() -> str:
    return secrets.token_hex(8)


async def card_version(q: Queries) -> int:
    return int(await q.fetchval("SELECT value FROM counters WHERE name = 'card_version'"))


async def current_epoch(q: Queries, *, now: datetime) -> CardEpoch:
    """The epoch, created at once when the database has none yet (first start, old backup)."""
    row = await q.fetchrow("SELECT epoch, started_version FROM card_list_epoch WHERE id = 1")
    if row is None:
        await q.execute(
            "INSERT INTO card_list_epoch (id, epoch, started_version, started_at)"
            " VALUES (1, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            new_epoch(),
            await card_version(q),
            to_db(now),
        )
        row = await q.fetchrow("SELECT epoch, started_version FROM card_list_epoch WHERE id = 1")
        assert row is not None
    return CardEpoch(str(row["epoch"]), int(row["started_version"]))


async def rotate_epoch(
    tx: Queries, *, now: datetime, actor: str, reason: str, detail: dict[str, object] | None = None
) -> CardEpoch:
    """Start a new epoch (inside `tx`): every site's next card pull is a full list."""
    old = await current_epoch(tx, now=now)
    epoch, version = new_epoch(), await card_version(tx)
    await tx.execute(
        "UPDATE card_list_epoch SET epoch = ?, started_version = ?, started_at = ? WHERE id = 1",
        epoch,
        version,
        to_db(now),
    )
    await AuditLog.add(
        tx,
        at=now,
        actor=actor,
        account_id=None,
        action="card_list.new_epoch",
        subject="card_list",
        detail={
            "reason": reason,
            "from": old.epoch,
            "to": epoch,
            "version": version,
            **(detail or {}),
        },
    )
    return CardEpoch(epoch, version, previous=old.epoch)
