"""Cards the site sets itself at runtime (local API `PUT /api/cards/{uid}`), beside the cloud's
versioned list and the configuration: with a status (Accepted, Blocked, Expired, Invalid), an
expiry and a group. Kept in the central system's SQLite file; judged after the cloud's list
(a card the cloud blocks stays blocked) and before the configuration's cards."""

from __future__ import annotations

import aiosqlite

from ..domain import Card, CardStatus
from .store import Store
from .timeutil import from_db, to_db

# OCPP's words for a card's status <-> how a card keeps it.
OCPP_STATUS = {
    "Accepted": CardStatus.ACTIVE,
    "Blocked": CardStatus.BLOCKED,
    "Expired": CardStatus.EXPIRED,
    "Invalid": CardStatus.INVALID,
}


def _key(uid: str) -> str:
    return uid.strip().upper()


class SiteCards:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._cards: dict[str, Card] = {}

    async def load(self) -> None:
        async def work(db: aiosqlite.Connection) -> list[Card]:
            async with db.execute(
                "SELECT uid, status, expires_at, group_id FROM site_cards ORDER BY uid"
            ) as cursor:
                return [
                    Card(r[0], CardStatus(r[1]), expires_at=from_db(r[2]), group_id=r[3])
                    async for r in cursor
                ]

        self._cards = {_key(card.uid): card for card in await self._store.read(work)}

    def get(self, uid: str) -> Card | None:
        return self._cards.get(_key(uid))

    def all(self) -> list[Card]:
        return sorted(self._cards.values(), key=lambda card: card.uid)

    async def put(self, card: Card) -> Card:
        async def work(db: aiosqlite.Connection) -> None:
            await db.execute(
                "INSERT OR REPLACE INTO site_cards (uid, status, expires_at, group_id)"
                " VALUES (?,?,?,?)",
                (_key(card.uid), card.status.value, to_db(card.expires_at), card.group_id),
            )

        await self._store.write(work)
        self._cards[_key(card.uid)] = card
        return card

    async def remove(self, uid: str) -> bool:
        async def work(db: aiosqlite.Connection) -> int:
            cursor = await db.execute("DELETE FROM site_cards WHERE uid = ?", (_key(uid),))
            return cursor.rowcount

        removed = await self._store.write(work)
        self._cards.pop(_key(uid), None)
        return removed > 0
