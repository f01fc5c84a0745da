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

SESSION_SQL = (
    "SELECT s.id, s.card_id, s.account_id, s.charge_point_id, s.cp_ocpp_id, s.source, s.operator,"
    " s.id_tag, s.started_at, s.stopped_at, s.energy_wh, s.start_cents, s.per_kwh_cents,"
    " s.per_minute_cents, s.tariff_basis, c.uid, c.account_id AS card_account,"
    " cp.account_id AS cp_account, cp.fast FROM sessions s"
    " LEFT JOIN cards c ON c.id = s.card_id LEFT JOIN charge_points cp ON cp.id = s.charge_point_id"
)
# Only what passed the door: nothing waiting in (or rejected by) the review queue, and no
# foreign card's session (kept on the charge point owner's account, billed to nobody).
CHECKED = " s.review IN ('none', 'accepted', 'corrected') AND s.flag IS NULL AND"


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

    def get(self, parts: TariffParts) -> SessionTariff:
        found = self._known.get(parts)
        if found is None:
            found = domain_tariff(parts)
            self._known[parts] = found
        return found


def session_of(row: Row, tariffs: Tariffs) -> ChargingSession:
    if row["source"] == "roaming":
        network, point = Network.ROAMING, f"{row['operator']}/{row['cp_ocpp_id']}"
    else:
        owner = row["cp_account"]
        home = owner is not None and owner == row["card_account"]
        network = Network.HOME if home else Network.OWN
        point = str(row["charge_point_id"]) if row["charge_point_id"] else row["cp_ocpp_id"]
    return ChargingSession(
        id=str(row["id"]),
        card_uid=row["uid"] or row["id_tag"] or "",
        charge_point_id=point,
        started_at=moment(row["started_at"]),
        stopped_at=moment(row["stopped_at"]),
        energy_wh=int(row["energy_wh"]),
        network=network,
        tariff=tariffs.get(TariffParts.of_session_row(row)),
        fast=bool(row["fast"]),
    )


@dataclass(frozen=True, slots=True)
class Scope:
    """The sessions one partition of the accounts needs: those of the cards of accounts
    `low`..`high` (and of `cards`, whose contract is theirs), every session at `points` (their
    contracts', guest owners' and lease drivers' charge points), and - in the first partition
    only - those of no card account at all."""

    low: int
    high: int
    cards: Collection[int] = ()
    points: Collection[int] = ()
    first: bool = False

    def where(self, engine: str) -> tuple[str, list[Any]]:
        """A condition on `c` (cards) and `s` (sessions) and its arguments."""
        if engine == "postgresql":
            card_in, point_in = (
                "s.card_id = ANY(?::bigint[])",
                "s.charge_point_id = ANY(?::bigint[])",
            )
            cards: Any = sorted(self.cards)
            points: Any = sorted(self.points)
        else:  # one bound JSON array instead of a placeholder per id
            card_in = "s.card_id IN (SELECT value FROM json_each(?))"
            point_in = "s.charge_point_id IN (SELECT value FROM json_each(?))"
            cards, points = json.dumps(sorted(self.cards)), json.dumps(sorted(self.points))
        text = f"(c.account_id BETWEEN ? AND ? OR {card_in} OR {point_in}"
        text += " OR c.account_id IS NULL)" if self.first else ")"
        return text, [self.low, self.high, cards, points]

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
    scope: Scope | None = None
    all: list[ChargingSession] = field(default_factory=list)
    prepaid: list[ChargingSession] = field(default_factory=list)  # for the prepaid ledger
    prepaid_accounts: dict[str, int] = field(default_factory=dict)  # session id → account
    card_accounts: dict[str, int | None] = field(default_factory=dict)  # session id → card's
    count: int = 0
    tariffs: Tariffs = field(default_factory=Tariffs)

    def add(self, rows: list[Row]) -> None:
        month, lookback = self.month, self.month.plus(-LOOKBACK_MONTHS)
        scope, keep_accounts = self.scope, self.scope is not None
        for row in rows:
            session = session_of(row, self.tariffs)
            self.all.append(session)  # prepaid ones too: a guest's prepaid session pays its owner
            card_account = row["card_account"]
            if keep_accounts:
                self.card_accounts[session.id] = None if card_account is None else int(card_account)
            if scope is not None and not scope.owns(card_account and int(card_account)):
                continue  # another partition deducts it
            # A late prepaid session is deducted too ("session:<id>" entries are never doubled).
            due = session.month == month or (
                lookback <= session.month < month and session.month not in self.open_months
            )
            if session.card_uid in self.prepaid_uids and due and card_account:
                self.prepaid.append(session)
                self.prepaid_accounts[session.id] = int(card_account)
        self.count += len(rows)

    async def load(
        self, db: Queries, engine: str, window: tuple[str, str], history_points: list[str]
    ) -> None:
        scoped, args = "", list[Any]()
        if self.scope is not None:
            text, args = self.scope.where(engine)
            scoped = f" AND {text}"
        after = 0
        while True:  # in pages, so a month of millions never holds all its raw rows at once
            page = await db.fetch(
                SESSION_SQL
                + " WHERE"
                + CHECKED
                + " s.started_at >= ? AND s.started_at < ? AND s.id > ?"
                + scoped
                + " ORDER BY s.id LIMIT ?",
                *window,
                after,
                *args,
                PAGE,
            )
            if not page:
                break
            after = int(page[-1]["id"])
            self.add(page)
        for chunk in range(0, len(history_points), 500):
            part = history_points[chunk : chunk + 500]
            marks = ", ".join("?" for _ in part)
            self.add(
                await db.fetch(
                    SESSION_SQL
                    + " WHERE"
                    + CHECKED
                    + f" s.started_at < ? AND s.energy_wh > 0 AND s.charge_point_id IN ({marks})"
                    " AND cp.account_id = c.account_id",
                    window[0],
                    *map(int, part),
                )
            )
