# ruff: noqa: S608  (SQL text is built from constant column lists only; values are bound)
"""Installation orders (seed 002) as stored: ordered from the advisor's advice, then moved one
step at a time by an administrator (partner appointment, installed with the technician's test
session, inspection, approved or rejected with the report's reasons).

The steps' rules are backend.billing.installation's (a step out of order raises its
InvalidTransition, a BillingError); this module loads, applies and saves them, each change
audited in the same transaction. Approval adds the charge point to the customer's account in
that transaction too: an approval refused or failed creates nothing. An order may name the
charge-point plan the customer chose; the caller's `on_approved` (backend/services/
installations.py) then starts that subscription inside the same transaction.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from ..billing import installation
from ..billing.advisor import Advice
from ..billing.installation import InspectionReport, InstallationOrder, OrderState
from ..storage import Database, Queries, UniqueViolation, to_db
from .audit import AuditLog
from .errors import Conflict, Invalid, NotFound
from .sites import Sites

MAX_LISTED = 200
MAX_OCPP_ID = 64


class StepAction(StrEnum):
    SCHEDULE = "schedule"  # the partner's appointment (`date`)
    INSTALLED = "installed"  # installed; `text` is the technician's test session
    INSPECTION = "inspection"  # the inspection's appointment (`date`)
    APPROVE = "approve"  # `text` is the charge point's OCPP id, added to the account
    REJECT = "reject"  # `text` holds the report's reasons, one per line


@dataclass(frozen=True, slots=True)
class Step:
    action: StepAction
    on: date  # the day the step happened
    date: date | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class StoredOrder:
    id: int
    account_id: int
    order: InstallationOrder
    advice: dict[str, Any]
    plan_code: str | None = None  # the charge-point plan approval starts
    immediate_start: bool = False  # art. 29.1: no 14-day wait
    subscription_id: int | None = None  # the subscription approval started


# (tx, the order, the charge point approval added, the day) → the subscription started, if any
OnApproved = Callable[[Queries, StoredOrder, int, date], Awaitable[int | None]]
_COLUMNS = "id, account_id, detail, advice, plan_code, immediate_start, subscription_id"


def _json(value: Any) -> str:
    return json.dumps(dataclasses.asdict(value), default=str, sort_keys=True)


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


def _stored(row: dict[str, Any]) -> StoredOrder:
    return StoredOrder(
        int(row["id"]),
        int(row["account_id"]),
        _order_from(json.loads(row["detail"])),
        json.loads(row["advice"]),
        row["plan_code"],
        bool(row["immediate_start"]),
        int(row["subscription_id"]) if row["subscription_id"] is not None else None,
    )


def _needed(value: date | None, what: str) -> date:
    if value is None:
        raise Invalid(f"{what} needs its date")
    return value


class Installations:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        account_id: int,
        advice: Advice,
        *,
        now: datetime,
        today: date,
        actor: str,
        plan_code: str | None = None,
        immediate_start: bool = False,
    ) -> StoredOrder:
        """An order for the charge point the advisor recommended (and the charge-point plan
        its approval starts, when named)."""
        async with self._db.transaction() as tx:
            if plan_code is not None:
                kind = await tx.fetchval("SELECT kind FROM plans WHERE code = ?", plan_code)
                if kind is None:
                    raise NotFound(f"plan {plan_code!r} not found")
                if kind != "charge_point":
                    raise Invalid(f"plan {plan_code!r} is not a charge-point plan")
            order_id = int(
                await tx.fetchval(
                    "INSERT INTO installation_orders (account_id, state, detail, advice,"
                    " created_at, plan_code, immediate_start)"
                    " VALUES (?, 'ordered', '{}', ?, ?, ?, ?) RETURNING id",
                    account_id,
                    _json(advice),
                    to_db(now),
                    plan_code,
                    int(immediate_start),
                )
            )
            order = InstallationOrder(str(order_id), str(account_id), today)
            await tx.execute(
                "UPDATE installation_orders SET detail = ? WHERE id = ?", _json(order), order_id
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
        return StoredOrder(
            order_id, account_id, order, json.loads(_json(advice)), plan_code, immediate_start
        )

    async def list(self, scope: int | None, *, limit: int = MAX_LISTED) -> list[StoredOrder]:
        """Newest first; `scope` an account id, or None for every account (administrators)."""
        sql = f"SELECT {_COLUMNS} FROM installation_orders"
        args: list[Any] = []
        if scope is not None:
            sql += " WHERE account_id = ?"
            args.append(scope)
        rows = await self._db.fetch(sql + " ORDER BY id DESC LIMIT ?", *args, limit)
        return [_stored(r) for r in rows]

    async def get(self, order_id: int, scope: int | None = None) -> StoredOrder:
        return _stored(await self._row(self._db, order_id, scope))

    async def step(
        self,
        order_id: int,
        step: Step,
        *,
        now: datetime,
        actor: str,
        on_approved: OnApproved | None = None,
    ) -> StoredOrder:
        """Move an order one step; billing refuses a step out of order (nothing changes)."""
        try:
            async with self._db.transaction() as tx:
                # Lock the row first: two steps at once apply one after the other.
                await tx.execute(
                    "UPDATE installation_orders SET state = state WHERE id = ?", order_id
                )
                stored = _stored(await self._row(tx, order_id, None))
                order = await self._apply(tx, stored, step, now)
                if order.state is OrderState.APPROVED and on_approved is not None:
                    assert order.charge_point_id is not None
                    started = await on_approved(tx, stored, int(order.charge_point_id), step.on)
                    stored = dataclasses.replace(stored, subscription_id=started)
                await tx.execute(
                    "UPDATE installation_orders SET state = ?, detail = ?, subscription_id = ?"
                    " WHERE id = ?",
                    order.state.value,
                    _json(order),
                    stored.subscription_id,
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
        except UniqueViolation as err:
            raise Conflict(f"charge point {step.text.strip()!r} exists already") from err
        return dataclasses.replace(stored, order=order)

    @staticmethod
    async def _apply(
        tx: Queries, stored: StoredOrder, step: Step, now: datetime
    ) -> InstallationOrder:
        order, on = stored.order, step.on
        match step.action:
            case StepAction.SCHEDULE:
                appointment = _needed(step.date, "an appointment")
                return installation.schedule_installation(order, on, appointment)
            case StepAction.INSTALLED:
                return installation.record_installation(order, on, step.text)
            case StepAction.INSPECTION:
                inspection = _needed(step.date, "an inspection")
                return installation.schedule_inspection(order, on, inspection)
            case StepAction.APPROVE:
                ocpp_id = step.text.strip()[:MAX_OCPP_ID]
                installation.approve(order, on, ocpp_id)  # refused out of order: nothing added
                point = await Sites.add_charge_point(
                    tx, stored.account_id, ocpp_id, now, name=ocpp_id
                )
                return installation.approve(order, on, str(point.id))
            case StepAction.REJECT:
                return installation.reject(order, on, tuple(step.text.splitlines()))

    @staticmethod
    async def _row(db: Queries, order_id: int, scope: int | None) -> dict[str, Any]:
        row = await db.fetchrow(
            f"SELECT {_COLUMNS} FROM installation_orders WHERE id = ?",
            order_id,
        )
        if row is None or (scope is not None and int(row["account_id"]) != scope):
            raise NotFound(f"installation order {order_id} not found")
        return dict(row)
