# ruff: noqa: S608  (SQL text is built from constant column lists only; values are bound)
"""Charge cards and keyfobs: status changes, lost cards, assignment and the versioned card list.

Every change takes the next card-list version and records, per account concerned, that the
card changed; a site's delta is then "changes for my account after version N". A card moved to
another account is sent to its old account's sites as blocked, so it leaves their lists too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..billing.plans import LOST_CARD_REPLACEMENT_FEE, PREPAID_MINIMUM_START_CENTS
from ..storage import Database, Queries, UniqueViolation, from_db, to_db
from ..storage.timefmt import utc_now
from .audit import AuditLog
from .card_epoch import CardEpoch, card_version, current_epoch, rotate_epoch
from .errors import Conflict, NotFound
from .models import CardKind, CardOrder, CardRecord, CardStatus
from .rows import columns, one, page, record

_CARD = columns(CardRecord)
_ORDER = columns(CardOrder)


@dataclass(frozen=True, slots=True)
class ListedCard:
    """A card as a site's local list holds it (what core.domain.Card is made from)."""

    uid: str
    status: CardStatus
    kind: CardKind
    expires_at: datetime | None
    may_start: bool
    # The driver and car the card names (store/vehicles.py), for the card's own account only.
    vehicle: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class CardDelta:
    """Changes after `since_version` up to `version`; `full`: the whole list, to replace the
    site's own (a first pull, or a site on another epoch or ahead of the counter)."""

    since_version: int
    version: int
    cards: list[ListedCard]
    full: bool = False
    epoch: str = ""


def normalise_uid(uid: str) -> str:
    """RFID UIDs are hex; readers differ in case and spacing."""
    return uid.strip().upper()


class Cards:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_card(
        self,
        uid: str,
        kind: CardKind,
        *,
        now: datetime,
        account_id: int | None = None,
        label: str | None = None,
        expires_at: datetime | None = None,
        actor: str = "system",
        roaming_authorized: bool = False,
    ) -> CardRecord:
        try:
            async with self._db.transaction() as tx:
                version = await _next_version(tx)
                row = await tx.fetchrow(
                    "INSERT INTO cards (uid, account_id, kind, status, label, expires_at, version,"
                    " created_at, roaming_authorized) VALUES (?, ?, ?, 'active', ?, ?, ?, ?, ?)"
                    f" RETURNING {_CARD}",
                    normalise_uid(uid),
                    account_id,
                    kind.value,
                    label,
                    to_db(expires_at),
                    version,
                    to_db(now),
                    int(roaming_authorized),
                )
                assert row is not None
                await _changed(tx, int(row["id"]), version, account_id)
                await AuditLog.add(
                    tx,
                    at=now,
                    actor=actor,
                    account_id=account_id,
                    action="card.create",
                    subject=f"card:{row['id']}",
                )
        except UniqueViolation as err:
            raise Conflict(f"card {uid!r} exists already") from err
        return record(CardRecord, row)

    async def get_card(self, card_id: int, scope: int | None = None) -> CardRecord:
        return await one(self._db, CardRecord, "cards", card_id, scope)

    async def find_uid(self, uid: str) -> CardRecord | None:
        row = await self._db.fetchrow(
            f"SELECT {_CARD} FROM cards WHERE uid = ?", normalise_uid(uid)
        )
        return record(CardRecord, row) if row else None

    async def list_cards(
        self, scope: int | None, *, limit: int = 50, after: int = 0
    ) -> list[CardRecord]:
        return await page(self._db, CardRecord, "cards", scope, limit=limit, after=after)

    async def set_status(
        self, card_id: int, scope: int | None, status: CardStatus, *, now: datetime, actor: str
    ) -> CardRecord:
        """Block or unblock; a lost card stays lost (a replacement is a new card)."""
        card = await self.get_card(card_id, scope)
        if card.status is CardStatus.LOST:
            raise Conflict(f"card {card_id} was reported lost and cannot be changed")
        if card.status is status:
            return card
        async with self._db.transaction() as tx:
            await self._update(tx, card, "status = ?", status.value)
            await AuditLog.add(
                tx,
                at=now,
                actor=actor,
                account_id=card.account_id,
                action=f"card.{status.value}",
                subject=f"card:{card_id}",
                detail={"from": card.status.value},
            )
        return await self.get_card(card_id)

    async def report_lost(
        self,
        card_id: int,
        scope: int | None,
        *,
        now: datetime,
        actor: str,
        order_replacement: bool = True,
    ) -> tuple[CardRecord, CardOrder | None]:
        """Block at once (art. 21.6), audit it, and order a replacement with its €7.50 fee."""
        card = await self.get_card(card_id, scope)
        if card.status is CardStatus.LOST:
            raise Conflict(f"card {card_id} was already reported lost")
        order = None
        async with self._db.transaction() as tx:
            await self._update(tx, card, "status = 'lost'")
            await AuditLog.add(
                tx,
                at=now,
                actor=actor,
                account_id=card.account_id,
                action="card.lost",
                subject=f"card:{card_id}",
                detail={"from": card.status.value},
            )
            if order_replacement and card.account_id is not None:
                order = await _replacement(tx, card, card.account_id, now=now, actor=actor)
        return await self.get_card(card_id), order

    async def order_replacement(
        self, card_id: int, scope: int | None, *, now: datetime, actor: str
    ) -> CardOrder:
        """A replacement for a card reported lost without one (€7.50, art. 21.6); one per card."""
        card = await self.get_card(card_id, scope)
        if card.status is not CardStatus.LOST or card.account_id is None:
            raise Conflict("a replacement is ordered for a card reported lost")
        async with self._db.transaction() as tx:
            # Lock the card's row first, so that two orders at once see each other's.
            await tx.execute("UPDATE cards SET status = status WHERE id = ?", card.id)
            if (
                await tx.fetchval("SELECT id FROM card_orders WHERE replaces_card_id = ?", card.id)
                is not None
            ):
                raise Conflict(f"a replacement for card {card.id} was ordered already")
            return await _replacement(tx, card, card.account_id, now=now, actor=actor)

    async def replacements_ordered(self, scope: int | None) -> set[int]:
        """Ids of the cards (in scope) whose replacement has been ordered."""
        args: list[Any] = []
        sql = "SELECT replaces_card_id FROM card_orders WHERE replaces_card_id IS NOT NULL"
        if scope is not None:
            sql += " AND account_id = ?"
            args.append(scope)
        return {int(r["replaces_card_id"]) for r in await self._db.fetch(sql, *args)}

    async def lost_times(self, scope: int) -> dict[int, datetime]:
        """When each of the account's cards was reported lost (from the audit log)."""
        rows = await self._db.fetch(
            "SELECT subject, at FROM audit_log WHERE account_id = ? AND action = 'card.lost'",
            scope,
        )
        return {
            int(r["subject"].removeprefix("card:")): from_db(r["at"]) or datetime.min for r in rows
        }

    async def assign(
        self, card_id: int, account_id: int, *, now: datetime, actor: str
    ) -> CardRecord:
        """Give a card to an account (an admin action); its old account's sites drop it."""
        card = await self.get_card(card_id)
        if await self._db.fetchval("SELECT id FROM accounts WHERE id = ?", account_id) is None:
            raise NotFound(f"account {account_id} not found")
        if card.account_id == account_id:
            return card
        async with self._db.transaction() as tx:
            version = await _next_version(tx)
            await tx.execute(
                "UPDATE cards SET account_id = ?, version = ? WHERE id = ?",
                account_id,
                version,
                card_id,
            )
            await _changed(tx, card_id, version, card.account_id, account_id)
            await AuditLog.add(
                tx,
                at=now,
                actor=actor,
                account_id=account_id,
                action="card.assign",
                subject=f"card:{card_id}",
                detail={"from_account": card.account_id},
            )
        return await self.get_card(card_id)

    async def list_orders(
        self, scope: int | None, *, limit: int = 50, after: int = 0
    ) -> list[CardOrder]:
        return await page(self._db, CardOrder, "card_orders", scope, limit=limit, after=after)

    async def touch_account(self, account_id: int) -> None:
        """Re-send an account's cards (e.g. its prepaid balance crossed the €10 minimum)."""
        async with self._db.transaction() as tx:
            ids = [
                r["id"]
                for r in await tx.fetch("SELECT id FROM cards WHERE account_id = ?", account_id)
            ]
            if ids:
                version = await _next_version(tx)
                for card_id in ids:
                    await tx.execute("UPDATE cards SET version = ? WHERE id = ?", version, card_id)
                    await _changed(tx, int(card_id), version, account_id)

    async def delta(
        self,
        account_id: int,
        since: int,
        *,
        epoch: str | None = None,
        now: datetime | None = None,
        actor: str = "system",
    ) -> CardDelta:
        """Cards of `account_id`'s lists changed after version `since` (0 = the full list).

        A site on another epoch, or one that has seen a version the counter has not reached
        (the database went back to a backup), gets the full list instead. The latter also
        starts a new epoch, so that sites behind the counter on the lost history resync too.
        """
        now = now or utc_now()
        async with self._db.transaction() as tx:
            # Read the counter first: every change up to it has committed (see module doc).
            current = await card_version(tx)
            known = await current_epoch(tx, now=now)
            if since > current:
                known = await rotate_epoch(
                    tx, now=now, actor=actor, reason="site ahead", detail={"since": since}
                )
            full = since == 0 or since > current or (epoch is not None and epoch != known.epoch)
            start = 0 if full else since
            rows = await tx.fetch(
                _LISTED + " WHERE c.id IN (SELECT card_id FROM card_changes"
                "  WHERE account_id = ? AND version > ? AND version <= ?) ORDER BY c.id",
                account_id,
                start,
                current,
            )
        cards = [_listed(row, account_id) for row in rows]
        return CardDelta(start, current, cards, full, known.epoch)

    async def epoch(self, *, now: datetime) -> CardEpoch:
        """The card list's current epoch (created on first use)."""
        async with self._db.transaction() as tx:
            return await current_epoch(tx, now=now)

    async def rotate_epoch(self, *, now: datetime, actor: str, reason: str) -> CardEpoch:
        """Start a new epoch: every site's next pull is the full list (after a restore)."""
        async with self._db.transaction() as tx:
            return await rotate_epoch(tx, now=now, actor=actor, reason=reason)

    async def listed(self, uid: str, account_id: int) -> ListedCard | None:
        """One card as `account_id`'s sites would list it (None when unknown)."""
        row = await self._db.fetchrow(_LISTED + " WHERE c.uid = ?", normalise_uid(uid))
        return None if row is None else _listed(row, account_id)

    async def _update(self, tx: Queries, card: CardRecord, assignment: str, *args: Any) -> None:
        version = await _next_version(tx)
        await tx.execute(
            f"UPDATE cards SET {assignment}, version = ? WHERE id = ?",
            *args,
            version,
            card.id,
        )
        await _changed(tx, card.id, version, card.account_id)


_LISTED = (
    "SELECT c.uid, c.status, c.kind, c.expires_at, c.account_id, a.prepaid_balance_cents,"
    " v.driver, v.name, v.battery_kwh, v.max_power_kw, v.phases, v.target_soc, v.departures"
    " FROM cards c LEFT JOIN accounts a ON a.id = c.account_id"
    " LEFT JOIN card_vehicles v ON v.card_id = c.id"
)


def _listed(row: dict[str, Any], account_id: int) -> ListedCard:
    """Another account's card is listed as blocked; prepaid below €10 may not start."""
    kind = CardKind(row["kind"])
    own = row["account_id"] == account_id
    status = CardStatus(row["status"]) if own else CardStatus.BLOCKED
    balance = int(row["prepaid_balance_cents"] or 0)
    may_start = kind is not CardKind.PREPAID or balance >= PREPAID_MINIMUM_START_CENTS
    vehicle = None
    if own and row["departures"] is not None:  # a card_vehicles row (departures is NOT NULL)
        vehicle = {
            "driver": row["driver"],
            "car": {
                **{k: row[k] for k in ("name", "battery_kwh", "max_power_kw", "phases")},
                "target_soc": row["target_soc"],
                "departures": json.loads(row["departures"]),
            },
        }
    expires = from_db(row["expires_at"])
    return ListedCard(row["uid"], status, kind, expires, may_start, vehicle)


async def _replacement(
    tx: Queries, card: CardRecord, account_id: int, *, now: datetime, actor: str
) -> CardOrder:
    """The replacement order for a lost card with its fee, audited in the caller's transaction."""
    row = await tx.fetchrow(
        "INSERT INTO card_orders (account_id, replaces_card_id, reason, fee_cents,"
        " fee_basis, status, created_at) VALUES (?, ?, 'lost', ?, ?, 'ordered', ?)"
        f" RETURNING {_ORDER}",
        account_id,
        card.id,
        LOST_CARD_REPLACEMENT_FEE.cents,
        LOST_CARD_REPLACEMENT_FEE.basis.value,
        to_db(now),
    )
    assert row is not None
    order = record(CardOrder, row)
    await AuditLog.add(
        tx,
        at=now,
        actor=actor,
        account_id=account_id,
        action="card_order.create",
        subject=f"card_order:{order.id}",
        detail={"fee_cents": order.fee_cents},
    )
    return order


async def _next_version(tx: Queries) -> int:
    # A restored counter counts on from the backup: the epoch (card_epoch.py) tells sites apart.
    return int(
        await tx.fetchval(
            "UPDATE counters SET value = value + 1 WHERE name = 'card_version' RETURNING value"
        )
    )


async def _changed(tx: Queries, card_id: int, version: int, *accounts: int | None) -> None:
    for account_id in {a for a in accounts if a is not None}:
        await tx.execute(
            "INSERT INTO card_changes (account_id, version, card_id) VALUES (?, ?, ?)",
            account_id,
            version,
            card_id,
        )
