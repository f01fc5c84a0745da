# ruff: noqa: S608  (SQL text is built from constant column lists and placeholders only)
"""The month's charging sessions from the store, as backend.billing `ChargingSession`s.

Which sessions: every session that passed the door and started (Amsterdam time) in the
window - from `LOOKBACK_MONTHS` before the month to its end: the month's own, the late ones no
document accounts for yet, and the accounted ones a late overage is compared with - plus, for
flexible charge-point plans, the owner's own charging before it (the idle-fee history). Ids
become strings; own charge points by row id, roaming ones as "<operator>/<OCPP id>". A
session's network: roaming by its origin; "home" when the card's account owns the charge
point; else our own network.

A `Scope` narrows the rows to one partition of the accounts (see `partition`); without one,
every row is read.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..billing.calendar import Month
from ..billing.money import Basis
from ..billing.sessions import ChargingSession, Network, SessionTariff
from ..storage import Queries, Row
from ..store.tariff_parts import TariffParts
from .stamps import moment

LOOKBACK_MONTHS = 3  # art. 22.4: overage may be billed up to 3 months after use
PAGE = 50_000

# One table, no joins: a page is a primary-key range, whatever the planner knows of the
# tables (right after a bulk load PostgreSQL has no statistics yet, and a join planned on none
# scanned every charge point for every session). Cards and charge points come from `Lookups`.
SESSION_SQL = (
    "SELECT s.id, s.card_id, s.charge_point_id, s.cp_ocpp_id, s.source, s.operator, s.id_tag,"
    " s.started_at, s.stopped_at, s.energy_wh, s.start_cents, s.per_kwh_cents,"
    " s.per_minute_cents, s.tariff_basis FROM sessions s"
)
# Only what passed the door: nothing waiting in (or rejected by) the review queue, and no
# foreign card's session (kept on the charge point owner's account, billed to nobody).
CHECKED = " s.review IN ('none', 'accepted', 'corrected') AND s.flag IS NULL AND"


class Lookups:
    """Each card's uid and account, each charge point's account and DC flag, by row id (read
    whole once; an id first seen in a later page - stored meanwhile - is read then)."""

    def __init__(self) -> None:
        self.cards: dict[int, tuple[str, int | None]] = {}
        self.points: dict[int, tuple[int, bool]] = {}

    async def read(self, db: Queries) -> None:
        await self._cards(db, "SELECT id, uid, account_id FROM cards")
        await self._points(db, "SELECT id, account_id, fast FROM charge_points")

    async def cover(self, db: Queries, rows: list[Row]) -> None:
        """Read the cards and charge points of `rows` not read before."""
        cards = {int(r["card_id"]) for r in rows if r["card_id"] is not None}
        points = {int(r["charge_point_id"]) for r in rows if r["charge_point_id"] is not None}
        new_cards, new_points = (
            sorted(cards - self.cards.keys()),
            sorted(points - self.points.keys()),
        )
        for start in range(0, len(new_cards), 500):
            part = new_cards[start : start + 500]
            await self._cards(db, "SELECT id, uid, account_id FROM cards" + _only(part), *part)
        for start in range(0, len(new_points), 500):
            part = new_points[start : start + 500]
            await self._points(
                db, "SELECT id, account_id, fast FROM charge_points" + _only(part), *part
            )

    async def _cards(self, db: Queries, sql: str, *args: int) -> None:
        for row in await db.fetch(sql, *args):
            account = row["account_id"]
            self.cards[int(row["id"])] = (row["uid"], None if account is None else int(account))

    async def _points(self, db: Queries, sql: str, *args: int) -> None:
        for row in await db.fetch(sql, *args):
            self.points[int(row["id"])] = (int(row["account_id"]), bool(row["fast"]))

    def card_account(self, row: Row) -> int | None:
        card = row["card_id"]
        return None if card is None else self.cards[int(card)][1]


def _only(ids: Collection[int]) -> str:
    if not ids:
        return ""
    return f" WHERE id IN ({', '.join('?' for _ in ids)})"


def domain_tariff(parts: TariffParts) -> SessionTariff:
    return SessionTariff(
        start_cents=Decimal(parts.start_cents),
        per_kwh_cents=Decimal(parts.per_kwh_cents),
        per_minute_cents=Decimal(parts.per_minute_cents),
        basis=Basis(parts.basis),
    )


class Tariffs:
    """One SessionTariff per distinct stored tariff (millions of sessions, few tariffs)."""

    def __init__(self) -> None:
        self._known: dict[TariffParts, SessionTariff] = {}
        self._rows: dict[tuple[str, str, str, str], SessionTariff] = {}

    def get(self, parts: TariffParts) -> SessionTariff:
        found = self._known.get(parts)
        if found is None:
            found = domain_tariff(parts)
            self._known[parts] = found
        return found

    def of_row(self, row: Row) -> SessionTariff:
        """The tariff copied onto a stored session, by its four column values as read."""
        key = (
            row["start_cents"],
            row["per_kwh_cents"],
            row["per_minute_cents"],
            row["tariff_basis"],
        )
        found = self._rows.get(key)
        if found is None:
            found = self._rows[key] = self.get(TariffParts.of_session_row(row))
        return found


def session_of(row: Row, tariffs: Tariffs, lookups: Lookups) -> ChargingSession:
    card = row["card_id"]
    uid, card_account = (None, None) if card is None else lookups.cards[int(card)]
    if row["source"] == "roaming":
        network, point, fast = Network.ROAMING, f"{row['operator']}/{row['cp_ocpp_id']}", False
    else:
        cp = row["charge_point_id"]
        owner, fast = (None, False) if cp is None else lookups.points[int(cp)]
        home = owner is not None and owner == card_account
        network = Network.HOME if home else Network.OWN
        point = str(cp) if cp else row["cp_ocpp_id"]
    return ChargingSession(
        id=str(row["id"]),
        card_uid=uid or row["id_tag"] or "",
        charge_point_id=point,
        started_at=moment(row["started_at"]),
        stopped_at=moment(row["stopped_at"]),
        energy_wh=int(row["energy_wh"]),
        network=network,
        tariff=tariffs.of_row(row),
        fast=fast,
    )


@dataclass(frozen=True, slots=True)
class Scope:
    """The sessions one partition of the accounts needs: those of `cards` (its accounts' and
    those whose contract is its own), every session at `points` (its contracts', guest owners'
    and lease drivers' charge points), and - in the first partition only - those of no card
    account at all (no card, or a card of no account: in `cards` then)."""

    low: int
    high: int
    cards: Collection[int] = ()
    points: Collection[int] = ()
    first: bool = False

    def where(self, engine: str) -> tuple[str, list[Any]]:
        """A condition on `s` (sessions) and its arguments."""
        if engine == "postgresql":  # a hashed subplan: `= ANY(?)` of a prepared statement's
            # generic plan compares each row with every element (270 ms against 46 ms for a
            # page of 50,000 sessions and 1,000 cards)
            card_in, point_in = (
                "s.card_id IN (SELECT unnest(?::bigint[]))",
                "s.charge_point_id IN (SELECT unnest(?::bigint[]))",
            )
            cards: Any = sorted(self.cards)
            points: Any = sorted(self.points)
        else:  # one bound JSON array instead of a placeholder per id
            card_in = "s.card_id IN (SELECT value FROM json_each(?))"
            point_in = "s.charge_point_id IN (SELECT value FROM json_each(?))"
            cards, points = json.dumps(sorted(self.cards)), json.dumps(sorted(self.points))
        text = f"({card_in} OR {point_in}"
        text += " OR s.card_id IS NULL)" if self.first else ")"
        return text, [cards, points]

    def owns(self, card_account: int | None) -> bool:
        """Whether this partition reports on a session of this card account (each session
        is reported by exactly one partition)."""
        if card_account is None:
            return self.first
        return self.low <= card_account <= self.high


@dataclass
class Sessions:
    """What the run needs of the loaded sessions."""

    month: Month
    open_months: frozenset[Month]
    prepaid_uids: frozenset[str]
    lookups: Lookups
    scope: Scope | None = None
    all: list[ChargingSession] = field(default_factory=list)
    prepaid: list[ChargingSession] = field(default_factory=list)  # for the prepaid ledger
    prepaid_accounts: dict[str, int] = field(default_factory=dict)  # session id → account
    card_accounts: dict[str, int | None] = field(default_factory=dict)  # session id → card's
    count: int = 0
    tariffs: Tariffs = field(default_factory=Tariffs)

    def add(self, rows: list[Row]) -> None:
        month, lookback = self.month, self.month.plus(-LOOKBACK_MONTHS)
        scope, lookups = self.scope, self.lookups
        for row in rows:
            session = session_of(row, self.tariffs, lookups)
            self.all.append(session)  # prepaid ones too: a guest's prepaid session pays its owner
            card_account = lookups.card_account(row)
            if scope is not None:
                self.card_accounts[session.id] = card_account
                if not scope.owns(card_account):
                    continue  # another partition deducts it
            # A late prepaid session is deducted too ("session:<id>" entries are never doubled).
            due = session.month == month or (
                lookback <= session.month < month and session.month not in self.open_months
            )
            if session.card_uid in self.prepaid_uids and due and card_account:
                self.prepaid.append(session)
                self.prepaid_accounts[session.id] = card_account
        self.count += len(rows)

    async def load(
        self, db: Queries, engine: str, window: tuple[str, str], history_points: list[str]
    ) -> None:
        scoped, args = "", list[Any]()
        if self.scope is not None:
            text, args = self.scope.where(engine)
            scoped = f" AND {text}"
        bounds = await db.fetchrow("SELECT min(id) AS low, max(id) AS high FROM sessions")
        low = 0 if bounds is None or bounds["low"] is None else int(bounds["low"]) - 1
        high = -1 if bounds is None or bounds["high"] is None else int(bounds["high"])
        # In pages of ids, so a month of millions never holds all its raw rows at once.
        for after in range(low, high, PAGE):
            page = await db.fetch(
                SESSION_SQL
                + " WHERE"
                + CHECKED
                + " s.started_at >= ? AND s.started_at < ? AND s.id > ? AND s.id <= ?"
                + scoped
                + " ORDER BY s.id",
                *window,
                after,
                after + PAGE,
                *args,
            )
            await self.lookups.cover(db, page)
            self.add(page)
        for chunk in range(0, len(history_points), 500):
            self.add(
                await history_rows(db, self.lookups, window[0], history_points[chunk : chunk + 500])
            )


async def history_rows(db: Queries, lookups: Lookups, before: str, points: list[str]) -> list[Row]:
    """The owner's own charging at `points` (500 at most) before `before`, oldest id first."""
    marks = ", ".join("?" for _ in points)
    rows = await db.fetch(
        SESSION_SQL
        + " WHERE"
        + CHECKED
        + f" s.started_at < ? AND s.energy_wh > 0 AND s.charge_point_id IN ({marks})"
        " ORDER BY s.id",
        before,
        *map(int, points),
    )
    await lookups.cover(db, rows)
    return [
        r
        for r in rows
        if (account := lookups.card_account(r)) is not None
        and lookups.points[int(r["charge_point_id"])][0] == account
    ]
