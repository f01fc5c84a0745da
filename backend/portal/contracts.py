# ruff: noqa: S608  (SQL text is built from constant column lists only; values are bound)
"""The account's subscriptions as backend.billing contracts (loaded by backend.invoicing), so
the portal shows the rules' own dates: minimum-term end, last day for notice, end after notice."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from ..billing.calendar import add_months
from ..billing.contracts import Contract, ContractStatus, give_notice, notice_deadline
from ..billing.plans import Plan, PlanKind
from ..invoicing.contracts import SUBSCRIPTION_COLUMNS, contract_of, load_plans
from ..storage import Database
from ..store import NotFound
from ..store.audit import AuditLog

__all__ = ["SubscriptionView", "cancel", "load_plans", "subscription", "subscriptions"]


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    id: int
    contract: Contract
    status: ContractStatus
    notice_deadline: date | None


def _with_term(contract: Contract) -> Contract:
    """A started subscription stored without its term end gets the plan's minimum term."""
    if contract.minimum_term_end is not None or contract.starts_on is None:
        return contract
    if contract.plan.kind is PlanKind.PREPAID:
        return contract
    end = add_months(contract.starts_on, contract.plan.minimum_term_months)
    return replace(contract, minimum_term_end=end)


async def subscriptions(db: Database, account_id: int, today: date) -> list[SubscriptionView]:
    plans: dict[str, Plan] = await load_plans(db)
    rows = await db.fetch(
        f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions s JOIN accounts a"
        " ON a.id = s.account_id WHERE s.account_id = ?"
        " AND s.status NOT IN ('rejected', 'withdrawn') ORDER BY s.id",
        account_id,
    )
    out = []
    for row in rows:
        contract = _with_term(contract_of(row, plans))
        out.append(
            SubscriptionView(
                int(row["id"]), contract, contract.status_on(today), notice_deadline(contract)
            )
        )
    return out


async def subscription(db: Database, sub_id: int, account_id: int, today: date) -> SubscriptionView:
    for view in await subscriptions(db, account_id, today):
        if view.id == sub_id:
            return view
    raise NotFound(f"subscription {sub_id} not found")


async def cancel(
    db: Database, view: SubscriptionView, today: date, *, now: datetime, actor: str
) -> Contract:
    """Ordinary notice received today (art. 13.1); billing decides the end date."""
    ended = give_notice(view.contract, today)
    assert ended.ends_on is not None
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE subscriptions SET status = 'notice_given', notice_received_on = ?,"
            " ends_on = ?, end_reason = 'notice' WHERE id = ?",
            today.isoformat(),
            ended.ends_on.isoformat(),
            view.id,
        )
        await AuditLog.add(
            tx,
            at=now,
            actor=actor,
            account_id=int(view.contract.account_id),
            action="subscription.notice",
            subject=f"subscription:{view.id}",
            detail={"ends_on": ended.ends_on},
        )
    return ended
