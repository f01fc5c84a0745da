# ruff: noqa: S608  (SQL text is built from constant column lists only; values are bound)
"""An account's subscriptions as backend.billing contracts, with the rules' own dates
(minimum-term end, last day for notice, end after notice); applying for a plan, and the
operator accepting (art. 3.1: the start date and minimum term follow, art. 4/29.1) or
rejecting it; the customer's ordinary notice (art. 13.1) and plan switch (art. 12.2,
backend.invoicing.switches).

The portal's subscription pages, /api/v1/subscriptions/… and `eflux-backend subscription` all
call these; a step the terms refuse raises billing's InvalidTransition (a BillingError).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from ..billing.calendar import add_months
from ..billing.contracts import (
    Contract,
    ContractStatus,
    accept,
    end_after_notice,
    give_notice,
    notice_deadline,
    reject,
)
from ..billing.plans import Plan, PlanKind
from ..billing.switches import PlanSwitch, request_switch
from ..invoicing.contracts import SUBSCRIPTION_COLUMNS, contract_of, load_plans
from ..invoicing.models import PlanSwitchRecord
from ..invoicing.switches import load_switches, record_plan_switch
from ..storage import Database, Queries, to_db
from ..store import Invalid, NotFound
from ..store.audit import AuditLog

__all__ = [
    "SubscriptionView",
    "accept_application",
    "accept_in",
    "apply",
    "apply_in",
    "give_notice_now",
    "load_plans",
    "notice_terms",
    "pending_switches",
    "preview_switch",
    "reject_application",
    "subscription",
    "subscriptions",
    "switch_plan",
]

_HIDDEN = "('rejected', 'withdrawn')"


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    id: int
    contract: Contract
    status: ContractStatus
    notice_deadline: date | None

    def summary(self) -> dict[str, Any]:
        """The view as the API shows it (dates ISO, the plan by its code)."""
        c = self.contract
        return {
            "id": self.id,
            "account_id": int(c.account_id),
            "plan_code": c.plan.code,
            "status": self.status.value,
            "applied_on": c.applied_on,
            "accepted_on": c.accepted_on,
            "starts_on": c.starts_on,
            "minimum_term_end": c.minimum_term_end,
            "notice_deadline": self.notice_deadline,
            "notice_received_on": c.notice_received_on,
            "ends_on": c.ends_on,
            "end_reason": c.end_reason.value if c.end_reason else None,
            "charge_point_id": int(c.charge_point_id) if c.charge_point_id else None,
        }


def _with_term(contract: Contract) -> Contract:
    """A started subscription stored without its term end gets the plan's minimum term."""
    if contract.minimum_term_end is not None or contract.starts_on is None:
        return contract
    if contract.plan.kind is PlanKind.PREPAID:
        return contract
    end = add_months(contract.starts_on, contract.plan.minimum_term_months)
    return replace(contract, minimum_term_end=end)


async def _views(
    db: Queries, scope: int | None, today: date, sub_id: int | None = None
) -> list[SubscriptionView]:
    plans: dict[str, Plan] = await load_plans(db)
    sql = (
        f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions s JOIN accounts a"
        f" ON a.id = s.account_id WHERE s.status NOT IN {_HIDDEN}"
    )
    args: list[Any] = []
    if scope is not None:
        sql += " AND s.account_id = ?"
        args.append(scope)
    if sub_id is not None:
        sql += " AND s.id = ?"
        args.append(sub_id)
    out = []
    for row in await db.fetch(sql + " ORDER BY s.id", *args):
        contract = _with_term(contract_of(row, plans))
        out.append(
            SubscriptionView(
                int(row["id"]), contract, contract.status_on(today), notice_deadline(contract)
            )
        )
    return out


async def subscriptions(db: Database, scope: int | None, today: date) -> list[SubscriptionView]:
    """The subscriptions in scope (an account id; None: all) but rejected or withdrawn ones."""
    return await _views(db, scope, today)


async def subscription(
    db: Queries, sub_id: int, scope: int | None, today: date
) -> SubscriptionView:
    found = await _views(db, scope, today, sub_id)
    if not found:
        raise NotFound(f"subscription {sub_id} not found")
    return found[0]


def notice_terms(view: SubscriptionView, today: date) -> tuple[str, date]:
    """Which notice rule applies today (prepaid, in_time, late) and the first day out of
    service a notice given today gives."""
    contract = view.contract
    if contract.plan.kind is PlanKind.PREPAID:
        rule = "prepaid"
    elif view.notice_deadline is not None and today <= view.notice_deadline:
        rule = "in_time"
    else:
        rule = "late"
    return rule, end_after_notice(contract, today)


async def give_notice_now(
    db: Database, sub_id: int, scope: int | None, today: date, *, now: datetime, actor: str
) -> SubscriptionView:
    """Ordinary notice received today (art. 13.1); billing decides the end date and refuses
    a subscription that is not accepted or active (a second notice included)."""
    async with db.transaction() as tx:
        # Lock the row first: two notices at once are taken one after the other.
        await tx.execute("UPDATE subscriptions SET status = status WHERE id = ?", sub_id)
        view = await subscription(tx, sub_id, scope, today)
        ended = give_notice(view.contract, today)
        assert ended.ends_on is not None
        await tx.execute(
            "UPDATE subscriptions SET status = 'notice_given', notice_received_on = ?,"
            " ends_on = ?, end_reason = 'notice' WHERE id = ?",
            today.isoformat(),
            ended.ends_on.isoformat(),
            sub_id,
        )
        await AuditLog.add(
            tx,
            at=now,
            actor=actor,
            account_id=int(ended.account_id),
            action="subscription.notice",
            subject=f"subscription:{sub_id}",
            detail={"ends_on": ended.ends_on},
        )
        return await subscription(tx, sub_id, scope, today)


async def pending_switches(db: Database, today: date) -> dict[int, PlanSwitch]:
    """Recorded switches that have not taken effect yet, by subscription id."""
    switches = await load_switches(db, await load_plans(db))
    return {int(s.contract_id): s for s in switches if s.effective_on > today}


async def preview_switch(
    db: Database, sub_id: int, scope: int | None, plan_code: str, today: date
) -> tuple[SubscriptionView, Plan, PlanSwitch]:
    """The switch as it would be recorded today, without recording it (the domain refuses
    here already, so a customer sees a refusal before confirming anything)."""
    view = await subscription(db, sub_id, scope, today)
    plans = await load_plans(db)
    if plan_code not in plans:
        raise NotFound(f"plan {plan_code!r} not found")
    earlier = [s for s in await load_switches(db, plans) if s.contract_id == view.contract.id]
    return view, plans[plan_code], request_switch(view.contract, earlier, plans[plan_code], today)


async def switch_plan(
    db: Database,
    sub_id: int,
    scope: int | None,
    plan_code: str,
    today: date,
    *,
    now: datetime,
    actor: str,
) -> PlanSwitchRecord:
    """Switch from the 1st of next month with its €7.50 fee (one switch per month). Refused
    as the preview refuses it (billing's rule); the UNIQUE index refuses one made at once."""
    await preview_switch(db, sub_id, scope, plan_code, today)
    return await record_plan_switch(db, sub_id, plan_code, today, scope, now=now, actor=actor)


async def apply(
    db: Database,
    account_id: int,
    plan_code: str,
    on: date,
    *,
    card_id: int | None = None,
    charge_point_id: int | None = None,
    immediate_start: bool = False,
    now: datetime,
    actor: str,
) -> SubscriptionView:
    """An application for a plan (art. 3.1): a card plan names one of the account's cards, a
    charge-point plan one of its charge points, prepaid neither; it starts once accepted."""
    async with db.transaction() as tx:
        sub_id = await apply_in(
            tx,
            account_id,
            plan_code,
            on,
            card_id=card_id,
            charge_point_id=charge_point_id,
            immediate_start=immediate_start,
            now=now,
            actor=actor,
        )
        return await subscription(tx, sub_id, account_id, on)


async def apply_in(
    tx: Queries,
    account_id: int,
    plan_code: str,
    on: date,
    *,
    card_id: int | None,
    charge_point_id: int | None,
    immediate_start: bool,
    now: datetime,
    actor: str,
) -> int:
    """`apply` inside the caller's transaction; the new subscription's id."""
    plans = await load_plans(tx)
    if plan_code not in plans:
        raise NotFound(f"plan {plan_code!r} not found")
    kind = plans[plan_code].kind
    if (card_id is not None) != (kind is PlanKind.CARD) or (charge_point_id is not None) != (
        kind is PlanKind.CHARGE_POINT
    ):
        raise Invalid(f"a {kind.value} plan names {_names(kind)}")
    for table, record_id in (("cards", card_id), ("charge_points", charge_point_id)):
        if record_id is None:
            continue
        owner = await tx.fetchval(f"SELECT account_id FROM {table} WHERE id = ?", record_id)
        if owner is None or int(owner) != account_id:
            raise NotFound(f"{table[:-1].replace('_', ' ')} {record_id} not found")
    sub_id = int(
        await tx.fetchval(
            "INSERT INTO subscriptions (account_id, plan_code, card_id, charge_point_id,"
            " status, applied_on, immediate_start, created_at)"
            " VALUES (?, ?, ?, ?, 'applied', ?, ?, ?) RETURNING id",
            account_id,
            plan_code,
            card_id,
            charge_point_id,
            on.isoformat(),
            int(immediate_start),
            to_db(now),
        )
    )
    await AuditLog.add(
        tx,
        at=now,
        actor=actor,
        account_id=account_id,
        action="subscription.apply",
        subject=f"subscription:{sub_id}",
        detail={"plan": plan_code},
    )
    return sub_id


def _names(kind: PlanKind) -> str:
    return {
        PlanKind.CARD: "a card (card_id) and no charge point",
        PlanKind.CHARGE_POINT: "a charge point (charge_point_id) and no card",
        PlanKind.PREPAID: "neither a card nor a charge point",
    }[kind]


async def accept_application(
    db: Database, sub_id: int, on: date, *, now: datetime, actor: str
) -> SubscriptionView:
    """The operator accepts (art. 3.1); billing sets the start (a charge-point plan waits out
    the 14 days of cooling-off unless an immediate start was asked for) and the minimum term."""
    async with db.transaction() as tx:
        return await accept_in(tx, sub_id, on, now=now, actor=actor)


async def accept_in(
    tx: Queries, sub_id: int, on: date, *, now: datetime, actor: str
) -> SubscriptionView:
    """`accept_application` inside the caller's transaction."""
    await tx.execute("UPDATE subscriptions SET status = status WHERE id = ?", sub_id)
    view = await subscription(tx, sub_id, None, on)
    accepted = accept(view.contract, on)
    assert accepted.starts_on is not None
    await tx.execute(
        "UPDATE subscriptions SET status = 'accepted', accepted_on = ?, starts_on = ?,"
        " minimum_term_ends_on = ? WHERE id = ?",
        on.isoformat(),
        accepted.starts_on.isoformat(),
        accepted.minimum_term_end.isoformat() if accepted.minimum_term_end else None,
        sub_id,
    )
    await _audit(tx, view, "accept", now, actor, {"starts_on": accepted.starts_on})
    return await subscription(tx, sub_id, None, on)


async def reject_application(
    db: Database, sub_id: int, on: date, *, now: datetime, actor: str
) -> Contract:
    """The operator declines an application (art. 3.1); it leaves the lists."""
    async with db.transaction() as tx:
        await tx.execute("UPDATE subscriptions SET status = status WHERE id = ?", sub_id)
        view = await subscription(tx, sub_id, None, on)
        rejected = reject(view.contract, on)
        await tx.execute("UPDATE subscriptions SET status = 'rejected' WHERE id = ?", sub_id)
        await _audit(tx, view, "reject", now, actor, {})
        return rejected


async def _audit(
    tx: Queries,
    view: SubscriptionView,
    step: str,
    now: datetime,
    actor: str,
    detail: dict[str, Any],
) -> None:
    await AuditLog.add(
        tx,
        at=now,
        actor=actor,
        account_id=int(view.contract.account_id),
        action=f"subscription.{step}",
        subject=f"subscription:{view.id}",
        detail=detail,
    )
