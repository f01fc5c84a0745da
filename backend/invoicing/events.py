"""Recording what the next run bills besides sessions and fees: one-off charges (transfer on
moving, misuse, late-payment interest) and outages of our software (art. 6.4, 8.2, 10.4, 12.2).
The amounts and rules stay in backend.billing; these are its inputs, stored."""

from __future__ import annotations

from datetime import datetime

from ..billing.charges import OneOffCharge
from ..billing.errors import BillingError
from ..billing.outages import Outage, OutageCause
from ..storage import Database, to_db
from ..store.audit import AuditLog
from ..store.errors import Invalid, NotFound


async def add_charge(
    db: Database, account_id: int, charge: OneOffCharge, *, now: datetime, actor: str = "system"
) -> int:
    """Store a domain charge (e.g. `transfer_charge(...)`) for the invoice of its month."""
    async with db.transaction() as tx:
        if await tx.fetchval("SELECT id FROM accounts WHERE id = ?", account_id) is None:
            raise NotFound(f"account {account_id} not found")
        new_id = await tx.fetchval(
            "INSERT INTO billing_charges (account_id, on_day, kind, description, cents, basis,"
            " vat_rate, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            account_id,
            charge.on.isoformat(),
            charge.kind.value,
            charge.description[:500],
            charge.price.cents,
            charge.price.basis.value,
            charge.price.rate.value,
            to_db(now),
        )
        await AuditLog.add(
            tx,
            at=now,
            actor=actor,
            account_id=account_id,
            action="billing.charge",
            subject=f"charge:{new_id}",
            detail={"kind": charge.kind.value, "cents": charge.price.cents},
        )
    return int(new_id)


async def record_outage(
    db: Database,
    subscription_id: int,
    started_at: datetime,
    ended_at: datetime,
    cause: OutageCause,
    *,
    now: datetime,
    actor: str = "system",
) -> int:
    """An outage of a subscription's charge point or card; the run credits it when it is ours
    and longer than 12 hours, in the month it ended."""
    try:
        Outage("new", str(subscription_id), started_at, ended_at, cause)  # the domain's checks
    except BillingError as err:
        raise Invalid(str(err)) from err
    async with db.transaction() as tx:
        account = await tx.fetchval(
            "SELECT account_id FROM subscriptions WHERE id = ?", subscription_id
        )
        if account is None:
            raise NotFound(f"subscription {subscription_id} not found")
        new_id = await tx.fetchval(
            "INSERT INTO outages (subscription_id, started_at, ended_at, cause, created_at)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            subscription_id,
            to_db(started_at),
            to_db(ended_at),
            cause.value,
            to_db(now),
        )
        await AuditLog.add(
            tx,
            at=now,
            actor=actor,
            account_id=int(account),
            action="billing.outage",
            subject=f"outage:{new_id}",
            detail={"hours": (ended_at - started_at).total_seconds() / 3600},
        )
    return int(new_id)
