"""Plans on offer: a new one from its fields, checked by backend.billing's rules, for the API
(POST /api/v1/plans) and `eflux-backend plans add`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ..billing.errors import BillingError
from ..billing.money import Basis, Price
from ..billing.plans import Bundle, OverageRates, Plan, PlanForm, PlanKind
from ..invoicing.contracts import load_plans
from ..storage import Database
from ..store import Conflict, Invalid, Plans
from ..store.audit import AuditLog

__all__ = ["add_plan", "load_plans", "new_plan"]


def new_plan(
    code: str,
    name: str,
    kind: PlanKind,
    form: PlanForm,
    *,
    monthly_fee_cents: int = 0,
    fee_basis: Basis = Basis.GROSS,
    bundle: dict[str, int] | None = None,
    overage: dict[str, Decimal] | None = None,
    duration_years: int | None = None,
) -> Plan:
    """A plan from its fields, checked by billing's rules (Invalid with billing's words)."""
    try:
        return Plan(
            code,
            name,
            kind,
            form,
            monthly_fee=Price(monthly_fee_cents, fee_basis),
            bundle=Bundle(**bundle) if bundle is not None else None,
            overage=OverageRates(**(overage or {})),
            duration_years=duration_years,
        )
    except BillingError as err:
        raise Invalid(str(err)) from err


async def add_plan(db: Database, plan: Plan, *, now: datetime, actor: str) -> Plan:
    """A new plan on offer. An existing plan is never changed here: its customers' tariffs
    change only when announced a month ahead (the terms), so a new offer is a new plan."""
    async with db.transaction() as tx:
        if await tx.fetchval("SELECT code FROM plans WHERE code = ?", plan.code) is not None:
            raise Conflict(f"plan {plan.code!r} exists already")
    await Plans(db).save_plan(plan, now=now)
    async with db.transaction() as tx:
        await AuditLog.add(
            tx,
            at=now,
            actor=actor,
            account_id=None,
            action="plan.create",
            subject=f"plan:{plan.code}",
            detail={"fee_cents": plan.monthly_fee.cents},
        )
    return (await load_plans(db))[plan.code]
