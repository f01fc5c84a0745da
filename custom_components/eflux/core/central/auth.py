"""Who may charge: the cloud's versioned card list, cards from config, the cloud on demand.

Order of judgement for an id tag:
1. the local card list (from the cloud, versioned): a lost/blocked/expired card is refused at
   once, even in free-charging mode;
2. cards listed in the configuration;
3. a fresh cached answer of the remote authorizer (the cloud);
4. the remote authorizer itself, with a short timeout (~2 s) - its answer is cached;
5. when the cloud cannot answer: a stale cached answer, else the local configuration
   (free charging accepts, otherwise Invalid). Charging never waits for the internet.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from ..domain import Card, CardKind, CardListDelta, CardStatus
from .config import AuthorizationSettings
from .errors import CardListGap
from .sitecards import SiteCards
from .store import Store
from .timeutil import from_db, to_db, to_wire

_LOGGER = logging.getLogger(__name__)
RemoteAuthorizer = Callable[[str], Awaitable[Card | None]]

ACCEPTED, BLOCKED, EXPIRED, INVALID = "Accepted", "Blocked", "Expired", "Invalid"


def normalise(uid: str) -> str:
    """RFID UIDs are hex; chargers differ in case."""
    return uid.strip().upper()


@dataclass(frozen=True, slots=True)
class AuthResult:
    status: str  # idTagInfo / idTokenInfo status
    source: str  # site, local-list, config, remote, cache, stale-cache, free-charging, default
    expires_at: datetime | None = None
    group_id: str | None = None  # 1.6 parentIdTag, 2.0.1 groupIdToken
    master_pass: bool = False  # of the site's master-pass group: may stop any session

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED


def card_status(card: Card, now: datetime) -> str:
    if card.status is CardStatus.INVALID:
        return INVALID
    if card.status in (CardStatus.BLOCKED, CardStatus.LOST) or not card.may_start:
        return BLOCKED
    if card.status is CardStatus.EXPIRED or (
        card.expires_at is not None and now >= card.expires_at
    ):
        return EXPIRED
    return ACCEPTED


def card_info(card: Card, now: datetime, expiry_key: str) -> dict[str, Any]:
    """A local-list entry's idTagInfo (1.6: expiryDate) / idTokenInfo (cacheExpiryDateTime)."""
    info: dict[str, Any] = {"status": card_status(card, now)}
    if card.expires_at is not None:
        info[expiry_key] = to_wire(card.expires_at)
    if card.group_id is not None:  # the key tells the version
        info.update(group_info(card.group_id, v16=expiry_key == "expiryDate"))
    return info


def group_info(group_id: str, *, v16: bool) -> dict[str, Any]:
    """1.6 parentIdTag (20 characters at most) or 2.0.1 groupIdToken."""
    if v16:
        return {"parentIdTag": group_id[:20]}
    return {"groupIdToken": {"idToken": group_id[:36], "type": "Central"}}


class CardBook:
    """The versioned local list from the cloud, in memory and in SQLite."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cards: dict[str, Card] = {}
        self.version = 0

    async def load(self) -> None:
        async def work(db: aiosqlite.Connection) -> tuple[int, list[Card]]:
            async with db.execute(
                "SELECT value FROM settings WHERE key = 'card_list_version'"
            ) as c:
                row = await c.fetchone()
            async with db.execute(
                "SELECT uid, status, kind, expires_at, may_start, group_id FROM cards"
            ) as cursor:
                cards = [
                    Card(
                        uid=r[0],
                        status=CardStatus(r[1]),
                        kind=CardKind(r[2]),
                        expires_at=from_db(r[3]),
                        may_start=bool(r[4]),
                        group_id=r[5],
                    )
                    async for r in cursor
                ]
            return (int(row[0]) if row else 0), cards

        self.version, cards = await self._store.read(work)
        self._cards = {normalise(card.uid): card for card in cards}

    def get(self, uid: str) -> Card | None:
        return self._cards.get(normalise(uid))

    def all(self) -> list[Card]:
        return list(self._cards.values())

    async def apply(self, delta: CardListDelta) -> bool:
        """Store a delta; False when it is already applied (same or older version)."""
        if delta.version <= self.version:
            return False
        if delta.since_version > self.version:
            raise CardListGap(self.version, delta.since_version)
        await self._store.write(lambda db: _store_cards(db, delta, replace=False))
        for card in delta.cards:
            self._cards[normalise(card.uid)] = card
        self.version = delta.version
        return True

    async def replace(self, full: CardListDelta) -> None:
        """Make the list exactly `full` (the cloud's whole list): cards not in it are removed,
        and its version is taken even when lower than ours (a cloud restored from a backup)."""
        await self._store.write(lambda db: _store_cards(db, full, replace=True))
        self._cards = {normalise(card.uid): card for card in full.cards}
        self.version = full.version


async def _store_cards(db: aiosqlite.Connection, delta: CardListDelta, *, replace: bool) -> None:
    if replace:
        await db.execute("DELETE FROM cards")
    await db.executemany(
        "INSERT OR REPLACE INTO cards (uid, status, kind, expires_at, may_start, version,"
        " group_id) VALUES (?,?,?,?,?,?,?)",
        [
            (
                c.uid,
                c.status.value,
                c.kind.value,
                to_db(c.expires_at),
                int(c.may_start),
                delta.version,
                c.group_id,
            )
            for c in delta.cards
        ],
    )
    await db.execute(
        "INSERT OR REPLACE INTO settings (key, value) VALUES ('card_list_version', ?)",
        (str(delta.version),),
    )


@dataclass(frozen=True, slots=True)
class _Cached:
    card: Card | None
    fetched_at: datetime


class Authorizer:
    def __init__(
        self,
        settings: AuthorizationSettings,
        cards: CardBook,
        store: Store,
        clock: Callable[[], datetime],
        remote: RemoteAuthorizer | None,
    ) -> None:
        self._settings = settings
        self._config_cards = config_cards(settings)
        self.site_cards: SiteCards | None = None  # cards set through the local API
        self._cards = cards
        self._store = store
        self._clock = clock
        self._remote = remote
        self._cache: dict[str, _Cached] = {}

    async def load(self) -> None:
        async def work(db: aiosqlite.Connection) -> list[tuple[str, _Cached]]:
            async with db.execute(
                "SELECT uid, status, kind, expires_at, may_start, known, fetched_at, group_id"
                " FROM remote_authorizations"
            ) as cursor:
                return [(r[0], _cached_from_row(r)) async for r in cursor]

        self._cache = dict(await self._store.read(work))

    async def authorize(self, uid: str) -> AuthResult:
        now = self._clock()
        key = normalise(uid)
        card = self._cards.get(key)
        if card is not None:
            return self._judge(card, now, "local-list")
        site = self.site_cards.get(key) if self.site_cards is not None else None
        if site is not None:
            return self._judge(site, now, "site")
        if key in self._config_cards:
            return self._judge(self._config_cards[key], now, "config")
        cached = self._cache.get(key)
        if cached is not None and self._fresh(cached, now):
            return self._judge_cached(cached, now, "cache")
        if self._remote is not None:
            try:
                answer = await asyncio.wait_for(self._remote(uid), self._settings.remote_timeout)
            except Exception as err:  # the cloud's problem must never block charging
                _LOGGER.warning("remote authorization of %s failed: %r", uid, err)
            else:
                entry = _Cached(answer, now)
                self._cache[key] = entry
                await self._store.write(lambda db: _save_cached(db, key, entry))
                return self._judge_cached(entry, now, "remote")
            if cached is not None:
                return self._judge_cached(cached, now, "stale-cache")
        return self._default(now)

    def _judge(self, card: Card, now: datetime, source: str) -> AuthResult:
        status = card_status(card, now)
        expiry = now + self._settings.accepted_for
        if card.expires_at is not None:
            expiry = min(expiry, card.expires_at)
        master = self._settings.master_pass_group
        return AuthResult(
            status,
            source,
            expiry if status == ACCEPTED else card.expires_at,
            card.group_id,
            master is not None and card.group_id == master and status == ACCEPTED,
        )

    def _judge_cached(self, cached: _Cached, now: datetime, source: str) -> AuthResult:
        if cached.card is None:  # the cloud does not know this card
            return (
                self._default(now) if self._settings.free_charging else AuthResult(INVALID, source)
            )
        return self._judge(cached.card, now, source)

    def _default(self, now: datetime) -> AuthResult:
        if self._settings.free_charging:
            return AuthResult(ACCEPTED, "free-charging", now + self._settings.accepted_for)
        return AuthResult(INVALID, "default")

    def _fresh(self, cached: _Cached, now: datetime) -> bool:
        ttl = (
            self._settings.remote_cache_ttl
            if cached.card is not None
            else self._settings.remote_negative_ttl
        )
        return now - cached.fetched_at < ttl


def config_cards(settings: AuthorizationSettings) -> dict[str, Card]:
    """Cards from the configuration by normalised uid: plain ids are accepted cards."""
    cards = {normalise(uid): Card(uid, CardStatus.ACTIVE) for uid in settings.cards}
    cards.update({normalise(card.uid): card for card in settings.card_entries})
    return cards


def _cached_from_row(row: Iterable[object]) -> _Cached:
    uid, status, kind, expires_at, may_start, known, fetched_at, group_id = tuple(row)
    card = None
    if known:
        card = Card(
            uid=str(uid),
            status=CardStatus(str(status)),
            kind=CardKind(str(kind)),
            expires_at=from_db(expires_at if isinstance(expires_at, str) else None),
            may_start=bool(may_start),
            group_id=str(group_id) if group_id is not None else None,
        )
    moment = from_db(str(fetched_at))
    assert moment is not None
    return _Cached(card, moment)


async def _save_cached(db: aiosqlite.Connection, key: str, entry: _Cached) -> None:
    card = entry.card
    await db.execute(
        "INSERT OR REPLACE INTO remote_authorizations"
        " (uid, status, kind, expires_at, may_start, known, fetched_at, group_id)"
        " VALUES (?,?,?,?,?,?,?,?)",
        (
            key,
            card.status.value if card else None,
            card.kind.value if card else None,
            to_db(card.expires_at) if card else None,
            int(card.may_start) if card else None,
            int(card is not None),
            to_db(entry.fetched_at),
            card.group_id if card else None,
        ),
    )
