"""Writes the portal adds to the store: installation orders, replacement cards, prepaid
top-ups and a lease driver's bank account. Each change is audited in the same transaction."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..billing.installation import InspectionReport, InstallationOrder, OrderState
from ..billing.lease import normalize_iban
from ..billing.plans import LOST_CARD_REPLACEMENT_FEE
from ..storage import Database, to_db
from ..store import CardRecord, CardStatus, Conflict
from ..store.audit import AuditLog
from .advisor import Advice

MAX_TOP_UP_CENTS = 50000  # €500 at once: a typo must not book thousands


@dataclass(frozen=True, slots=True)
class StoredOrder:
    id: int
    account_id: int
    order: InstallationOrder
    advice: dict[str, Any]


def _order_json(order: InstallationOrder) -> str:
    return json.dumps(dataclasses.asdict(order), default=str, sort_keys=True)


def _order_from(data: dict[str, Any]) -> InstallationOrder:
    days = {
        k: date.fromisoformat(v) if v else None
        for k, v in data.items()
        if k.endswith("_on") or k == "active_from"
    }
    reports = tuple(
        InspectionReport(
            r["number"], date.fromisoformat(r["on"]), r["approved"], tuple(r["reasons"])
        )
        for r in data["reports"]
    )
    return InstallationOrder(
        id=data["id"],
        account_id=data["account_id"],
        ordered_on=days.pop("ordered_on") or date.min,
        state=OrderState(data["state"]),
        reports=reports,
        test_session_id=data["test_session_id"],
        charge_point_id=data["charge_point_id"],
        **days,
    )


def advice_json(advice: Advice) -> str:
    return json.dumps(dataclasses.asdict(advice), default=str, sort_keys=True)


async def create_installation_order(
    db: Database, account_id: int, advice: Advice, *, now: datetime, today: date, actor: str
) -> StoredOrder:
    async with db.transaction() as tx:
        order_id = int(
            await tx.fetchval(
                "INSERT INTO installation_orders (account_id, state, detail, advice, created_at)"
                " VALUES (?, 'ordered', '{}', ?, ?) RETURNING id",
                account_id,
                advice_json(advice),
                to_db(now),
            )
        )
        order = InstallationOrder(str(order_id), str(account_id), today)
        await tx.execute(
            "UPDATE installation_orders SET detail = ? WHERE id = ?", _order_json(order), order_id
        )
        await AuditLog.add(
            tx,
            at=now,
            actor=actor,
            account_id=account_id,
            action="installation.order",
            subject=f"installation:{order_id}",
            detail={"power_kw": advice.power_kw},
        )
    return StoredOrder(order_id, account_id, order, json.loads(advice_json(advice)))


async def installation_orders(db: Database, scope: int | None) -> list[StoredOrder]:
    sql = "SELECT id, account_id, detail, advice FROM installation_orders"
    args: list[Any] = []
    if scope is not None:
        sql += " WHERE account_id = ?"
        args.append(scope)
    rows = await db.fetch(sql + " ORDER BY id DESC LIMIT 200", *args)
    return [
        StoredOrder(
            int(r["id"]),
            int(r["account_id"]),
            _order_from(json.loads(r["detail"])),
            json.loads(r["advice"]),
        )
        for r in rows
    ]


async def save_installation_order(
    db: Database, stored: StoredOrder, order: InstallationOrder, *, now: datetime, actor: str
) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE installation_orders SET state = ?, detail = ? WHERE id = ?",
            order.state.value,
            _order_json(order),
            stored.id,
        )
        await AuditLog.add(
            tx,
            at=now,
            actor=actor,
            account_id=stored.account_id,
            action=f"installation.{order.state.value}",
            subject=f"installation:{stored.id}",
            detail={"reasons": order.reports[-1].reasons} if order.reports else {},
        )


async def order_replacement(db: Database, card: CardRecord, *, now: datetime, actor: str) -> int:
    """A replacement for a card already reported lost (without one ordered then): €7.50."""
    if card.status is not CardStatus.LOST or card.account_id is None:
        raise Conflict("a replacement is ordered for a card reported lost")
    async with db.transaction() as tx:
        if (
            await tx.fetchval("SELECT id FROM card_orders WHERE replaces_card_id = ?", card.id)
            is not None
        ):
            raise Conflict(f"a replacement for card {card.id} was ordered already")
        order_id = int(
            await tx.fetchval(
                "INSERT INTO card_orders (account_id, replaces_card_id, reason, fee_cents,"
                " fee_basis, status, created_at)"
                " VALUES (?, ?, 'lost', ?, ?, 'ordered', ?) RETURNING id",
                card.account_id,
                card.id,
                LOST_CARD_REPLACEMENT_FEE.cents,
                LOST_CARD_REPLACEMENT_FEE.basis.value,
                to_db(now),
            )
        )
        await AuditLog.add(
            tx,
            at=now,
            actor=actor,
            account_id=card.account_id,
            action="card_order.create",
            subject=f"card_order:{order_id}",
            detail={"fee_cents": LOST_CARD_REPLACEMENT_FEE.cents},
        )
    return order_id


async def replacement_ordered(db: Database, scope: int) -> set[int]:
    rows = await db.fetch(
        "SELECT replaces_card_id FROM card_orders WHERE account_id = ?"
        " AND replaces_card_id IS NOT NULL",
        scope,
    )
    return {int(r["replaces_card_id"]) for r in rows}


async def set_iban(db: Database, account_id: int, text: str, *, now: datetime, actor: str) -> str:
    """Store a checked IBAN (billing's ISO 13616 check raises BillingError otherwise)."""
    iban = normalize_iban(text)
    async with db.transaction() as tx:
        await tx.execute("UPDATE accounts SET iban = ? WHERE id = ?", iban, account_id)
        await AuditLog.add(
            tx,
            at=now,
            actor=actor,
            account_id=account_id,
            action="account.iban",
            subject=f"account:{account_id}",
            detail={"iban_end": iban[-4:]},
        )
    return iban
