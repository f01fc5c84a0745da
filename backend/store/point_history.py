"""What the door (`door`) reads: a charge point's guest setting and tariff over time
(`charge_point_tariffs`), and a card's owner.

Every change of `tariff_id` or `guest_usage` appends a row valid from that moment; a session is
priced at, and judged by, the row in force when it started (art. 28.5): the guest pays and the
owner is credited the tariff of that moment, whatever changes after.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ..storage import Queries, from_db, to_db
from .cards import normalise_uid
from .door import CardFacts, PointFacts
from .tariff_parts import ZERO, TariffParts


async def record_setting(
    tx: Queries, cp_id: int, tariff_id: int | None, guest_usage: bool, at: datetime
) -> None:
    await tx.execute(
        "INSERT INTO charge_point_tariffs (charge_point_id, tariff_id, guest_usage, valid_from)"
        " VALUES (?, ?, ?, ?)",
        cp_id,
        tariff_id,
        int(guest_usage),
        to_db(at),
    )


@dataclass(frozen=True, slots=True)
class PointHistory:
    """A charge point's facts and its settings over time, read once (a batch of sessions on one
    charge point resolves every start in memory)."""

    facts: PointFacts  # guest_usage as it is now
    settings: tuple[tuple[datetime, bool, TariffParts], ...]  # by valid_from, oldest first

    def at(self, when: datetime) -> tuple[PointFacts, TariffParts]:
        """The facts and tariff in force at `when` (before the first setting: the first)."""
        if not self.settings:
            return self.facts, ZERO
        found = self.settings[0]
        for setting in self.settings:
            if setting[0] <= when:
                found = setting
        return replace(self.facts, guest_usage=found[1]), found[2]


async def load_point(tx: Queries, cp_id: int) -> PointHistory:
    cp = await tx.fetchrow(
        "SELECT id, account_id, guest_usage, max_power_kw, fast, created_at"
        " FROM charge_points WHERE id = ?",
        cp_id,
    )
    assert cp is not None
    rows = await tx.fetch(
        "SELECT h.valid_from, h.guest_usage, t.start_cents, t.per_kwh_cents,"
        " t.per_minute_cents, t.basis FROM charge_point_tariffs h"
        " LEFT JOIN tariffs t ON t.id = h.tariff_id WHERE h.charge_point_id = ?"
        " ORDER BY h.valid_from, h.id",
        cp_id,
    )
    created = from_db(cp["created_at"])
    assert created is not None
    facts = PointFacts(
        id=int(cp["id"]),
        account_id=int(cp["account_id"]),
        guest_usage=bool(cp["guest_usage"]),
        max_power_kw=None if cp["max_power_kw"] is None else float(cp["max_power_kw"]),
        fast=bool(cp["fast"]),
        created_at=created,
    )
    settings = []
    for row in rows:
        at = from_db(row["valid_from"])
        assert at is not None
        tariff = ZERO if row["basis"] is None else TariffParts.of_tariff_row(row)
        settings.append((at, bool(row["guest_usage"]), tariff))
    return PointHistory(facts, tuple(settings))


async def point_at(tx: Queries, cp_id: int, at: datetime) -> tuple[PointFacts, TariffParts]:
    """The charge point's facts and tariff in force at `at` (before its first row: the first)."""
    return (await load_point(tx, cp_id)).at(at)


async def card_facts(tx: Queries, uid: str) -> CardFacts | None:
    """What the door needs of a card, by its uid (None: not one of ours)."""
    row = await tx.fetchrow(
        "SELECT id, account_id, roaming_authorized FROM cards WHERE uid = ?", normalise_uid(uid)
    )
    if row is None:
        return None
    account = row["account_id"]
    return CardFacts(
        int(row["id"]), None if account is None else int(account), bool(row["roaming_authorized"])
    )
