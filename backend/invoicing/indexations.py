"""CPI indexations, stored (art. 9.1, 12.1, 13.3): the run applies every one in force to the
fixed fees of customers of more than 3 months, from the billing month after it takes effect
(backend.billing.indexation keeps the rule; this is its input)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from ..billing.errors import BillingError
from ..billing.indexation import Indexation
from ..storage import Database, Queries, UniqueViolation, to_db
from ..store.audit import AuditLog
from ..store.errors import Conflict, Invalid


async def record_indexation(
    db: Database,
    cpi_percent: Decimal,
    planned_on: date,
    announced_on: date,
    *,
    now: datetime,
    actor: str = "system",
) -> int:
    """Store the yearly indexation; a second one for the same date is a `Conflict`."""
    if not isinstance(planned_on, date) or not isinstance(announced_on, date):
        raise Invalid("indexation dates must be dates")
    try:
        indexation = Indexation(cpi_percent, planned_on, announced_on)  # the domain's checks
    except BillingError as err:
        raise Invalid(str(err)) from err
    try:
        async with db.transaction() as tx:
            new_id = await tx.fetchval(
                "INSERT INTO cpi_indexations (cpi_percent, planned_on, announced_on, created_at)"
                " VALUES (?, ?, ?, ?) RETURNING id",
                str(cpi_percent),
                planned_on.isoformat(),
                announced_on.isoformat(),
                to_db(now),
            )
            await AuditLog.add(
                tx,
                at=now,
                actor=actor,
                account_id=None,
                action="billing.indexation",
                subject=f"indexation:{new_id}",
                detail={
                    "cpi_percent": str(cpi_percent),
                    "effective_on": indexation.effective_on.isoformat(),
                },
            )
    except UniqueViolation as err:
        raise Conflict(f"an indexation for {planned_on} is already recorded") from err
    return int(new_id)


async def load_indexations(db: Queries) -> list[Indexation]:
    rows = await db.fetch(
        "SELECT cpi_percent, planned_on, announced_on FROM cpi_indexations ORDER BY planned_on"
    )
    return [
        Indexation(
            Decimal(r["cpi_percent"]),
            date.fromisoformat(r["planned_on"]),
            date.fromisoformat(r["announced_on"]),
        )
        for r in rows
    ]
