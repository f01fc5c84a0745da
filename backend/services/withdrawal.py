"""A consumer's withdrawal within the cooling-off period (art. 3.5, 29), stored: the
subscription ends on the day it arrives (an application not yet accepted simply lapses). The
days in service are what the monthly run bills for it, pro rata (1/30 of the fee per day);
billing's `withdraw` refuses outside the 14 days or for a contract without the right."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ..billing.termination import withdraw
from ..storage import Database
from ..store.audit import AuditLog
from .subscriptions import subscription


@dataclass(frozen=True, slots=True)
class WithdrawalView:
    id: int
    status: str  # withdrawn
    ends_on: date  # the first day out of service
    used_days: int  # days in service, billed pro rata by the run
    charge_cents: int  # what those days cost (incl. VAT as the plan's fee is stated)
    refund_due_by: date  # payments made are refunded by then (art. 29.2)


async def withdraw_now(
    db: Database, sub_id: int, scope: int | None, today: date, *, now: datetime, actor: str
) -> WithdrawalView:
    async with db.transaction() as tx:
        await tx.execute("UPDATE subscriptions SET status = status WHERE id = ?", sub_id)
        view = await subscription(tx, sub_id, scope, today)
        done = withdraw(view.contract, today)
        ends_on = done.contract.ends_on
        assert ends_on is not None
        await tx.execute(
            "UPDATE subscriptions SET status = 'withdrawn', notice_received_on = ?,"
            " ends_on = ?, end_reason = 'withdrawal' WHERE id = ?",
            today.isoformat(),
            ends_on.isoformat(),
            sub_id,
        )
        await AuditLog.add(
            tx,
            at=now,
            actor=actor,
            account_id=int(view.contract.account_id),
            action="subscription.withdraw",
            subject=f"subscription:{sub_id}",
            detail={"used_days": done.used_days, "charge_cents": done.charge.cents},
        )
    return WithdrawalView(
        sub_id, "withdrawn", ends_on, done.used_days, done.charge.cents, done.refund_due_by
    )
