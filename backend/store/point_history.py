"""What the door (`door`) reads: a charge point's guest setting and tariff over time
(`charge_point_tariffs`), and a card's owner.

Every change of `tariff_id` or `guest_usage` appends a row valid from that moment; a session is
priced at, and judged by, the row in force when it started (art. 28.5): the guest pays and the
owner is credited the tariff of that moment, whatever changes after.
"""

from __future__ import annotations

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
        " VALUES (?, ?, ?, ?)", cp_id, tariff_id, int(guest_usage), to_db(at))


async def point_at(tx: Queries, cp_id: int, at: datetime) -> tuple[PointFacts, TariffParts]:
    """The charge point's facts and tariff in force at `at` (before its first row: the first)."""
    cp = await tx.fetchrow(
        "SELECT id, account_id, guest_usage, tariff_id, max_power_kw, fast, created_at"
        " FROM charge_points WHERE id = ?", cp_id)
    assert cp is not None
    stamp = to_db(at)
    setting = await tx.fetchrow(
        "SELECT tariff_id, guest_usage FROM charge_point_tariffs WHERE charge_point_id = ?"
        " AND valid_from <= ? ORDER BY valid_from DESC, id DESC LIMIT 1", cp_id, stamp)
    if setting is None:
        setting = await tx.fetchrow(
            "SELECT tariff_id, guest_usage FROM charge_point_tariffs WHERE charge_point_id = ?"
            " ORDER BY valid_from, id LIMIT 1", cp_id)
    source = setting if setting is not None else cp  # a row written around the history
    tariff = ZERO
    if source["tariff_id"] is not None:
        row = await tx.fetchrow(
            "SELECT start_cents, per_kwh_cents, per_minute_cents, basis FROM tariffs"
            " WHERE id = ?", source["tariff_id"])
        tariff = ZERO if row is None else TariffParts.of_tariff_row(row)
    created = from_db(cp["created_at"])
    assert created is not None
    facts = PointFacts(
        id=int(cp["id"]), account_id=int(cp["account_id"]),
        guest_usage=bool(source["guest_usage"]),
        max_power_kw=None if cp["max_power_kw"] is None else float(cp["max_power_kw"]),
        fast=bool(cp["fast"]), created_at=created,
    )
    return facts, tariff


async def card_facts(tx: Queries, uid: str) -> CardFacts | None:
    """What the door needs of a card, by its uid (None: not one of ours)."""
    row = await tx.fetchrow(
        "SELECT id, account_id, roaming_authorized FROM cards WHERE uid = ?", normalise_uid(uid))
    if row is None:
        return None
    account = row["account_id"]
    return CardFacts(int(row["id"]), None if account is None else int(account),
                     bool(row["roaming_authorized"]))
