# ruff: noqa: S608  (SQL text is built from constant column lists only; values are bound)
"""Recording a plan switch (art. 12.2; rules in backend.billing.switches).

The switch takes effect on the 1st of the next month; its €7.50 fee is billed with the month of
the request, i.e. on the invoice dated the 1st of the next month. One switch per subscription
per calendar month: the domain refuses a second, and a UNIQUE index refuses a concurrent one.
"""

from __future__ import annotations

from datetime import date, datetime

from ..billing.calendar import Month
from ..billing.errors import BillingError
from ..billing.money import Basis, Price
from ..billing.plans import Plan
from ..billing.switches import PlanSwitch, request_switch
from ..storage import Database, Queries, Row, UniqueViolation, to_db
from ..store.audit import AuditLog
from ..store.errors import Conflict, Invalid, NotFound
from .contracts import load_contracts, load_plans
from .models import PlanSwitchRecord

_SWITCH = "id, subscription_id, requested_on, new_plan_code, effective_on, fee_cents, fee_basis"


def _domain(row: Row, plans: dict[str, Plan]) -> PlanSwitch:
    return PlanSwitch(
        str(row["subscription_id"]),
        date.fromisoformat(row["requested_on"]),
        plans[row["new_plan_code"]],
        date.fromisoformat(row["effective_on"]),
        Price(int(row["fee_cents"]), Basis(row["fee_basis"])),
    )


async def load_switches(db: Queries, plans: dict[str, Plan]) -> list[PlanSwitch]:
    """Every recorded switch, oldest first."""
    rows = await db.fetch(f"SELECT {_SWITCH} FROM plan_switches ORDER BY requested_on, id")
    return [_domain(r, plans) for r in rows]


async def record_plan_switch(
    db: Database,
    subscription_id: int,
    new_plan_code: str,
    on: date,
    scope: int | None,
    *,
    now: datetime,
    actor: str = "system",
) -> PlanSwitchRecord:
    """Switch a subscription to `new_plan_code` from the 1st of next month (€7.50 fee)."""
    plans = await load_plans(db)
    if new_plan_code not in plans:
        raise NotFound(f"plan {new_plan_code!r} not found")
    found = await load_contracts(db, plans, subscription_id=subscription_id)
    if not found or (scope is not None and int(found[0][0]["account_id"]) != scope):
        raise NotFound(f"subscription {subscription_id} not found")
    row, contract = found[0]
    earlier = [s for s in await load_switches(db, plans) if s.contract_id == contract.id]
    try:
        switch = request_switch(contract, earlier, plans[new_plan_code], on)
    except BillingError as err:
        raise Invalid(str(err)) from err
    try:
        async with db.transaction() as tx:
            new_id = await tx.fetchval(
                "INSERT INTO plan_switches (subscription_id, requested_on, requested_month,"
                " new_plan_code, effective_on, fee_cents, fee_basis, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                subscription_id,
                on.isoformat(),
                str(Month.of(on)),
                new_plan_code,
                switch.effective_on.isoformat(),
                switch.fee.cents,
                switch.fee.basis.value,
                to_db(now),
            )
            await AuditLog.add(
                tx,
                at=now,
                actor=actor,
                account_id=int(row["account_id"]),
                action="subscription.switch",
                subject=f"subscription:{subscription_id}",
                detail={"to": new_plan_code, "from": str(switch.effective_on)},
            )
    except UniqueViolation as err:
        raise Conflict(
            f"subscription {subscription_id} already switched plan in"
            f" {Month.of(on)} (one switch per month, art. 12.2)"
        ) from err
    return PlanSwitchRecord(
        int(new_id), subscription_id, on, new_plan_code, switch.effective_on, switch.fee.cents
    )
