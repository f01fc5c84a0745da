"""Guest-usage inputs, stored (art. 28.7): what an owner pays for electricity, and the guest
sessions not recovered from the guest's MSP, whose payout that cost caps. The cap itself is
backend.billing.guest_usage's; a flag counts only for a credit note not issued yet."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ..billing.errors import BillingError
from ..billing.money import exact
from ..storage import Database, Queries, to_db
from ..store.audit import AuditLog
from ..store.errors import Conflict, Invalid, NotFound


async def set_electricity_cost(
    db: Database,
    account_id: int,
    cents_per_kwh: Decimal,
    *,
    now: datetime,
    actor: str = "system",
) -> None:
    """The owner's electricity price incl. VAT, in cents per kWh (replacing an earlier one)."""
    try:
        if exact(cents_per_kwh, "electricity cost") < 0:
            raise Invalid("an electricity cost must not be negative")
    except BillingError as err:
        raise Invalid(str(err)) from err
    async with db.transaction() as tx:
        if await tx.fetchval("SELECT id FROM accounts WHERE id = ?", account_id) is None:
            raise NotFound(f"account {account_id} not found")
        await tx.execute(
            "INSERT INTO guest_owner_settings (account_id, electricity_cents_per_kwh)"
            " VALUES (?, ?) ON CONFLICT (account_id) DO UPDATE SET electricity_cents_per_kwh = ?",
            account_id,
            str(cents_per_kwh),
            str(cents_per_kwh),
        )
        await AuditLog.add(
            tx,
            at=now,
            actor=actor,
            account_id=account_id,
            action="guest.electricity_cost",
            subject=f"account:{account_id}",
            detail={"cents_per_kwh": str(cents_per_kwh)},
        )


async def flag_unrecovered(
    db: Database, session_id: int, *, now: datetime, actor: str = "system"
) -> None:
    """Flag a guest session as not recovered (again: no change). Once its credit note is
    issued the payout stands: `Conflict`."""
    async with db.transaction() as tx:
        if await tx.fetchval("SELECT id FROM sessions WHERE id = ?", session_id) is None:
            raise NotFound(f"session {session_id} not found")
        paid = await tx.fetchval(
            "SELECT i.number FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id"
            " WHERE l.kind = 'guest_usage' AND l.ref = ?",
            str(session_id),
        )
        if paid is not None:
            raise Conflict(f"session {session_id} is already paid out on credit note {paid}")
        await tx.execute(
            "INSERT INTO guest_unrecovered_sessions (session_id, flagged_at) VALUES (?, ?)"
            " ON CONFLICT (session_id) DO NOTHING",
            session_id,
            to_db(now),
        )
        await AuditLog.add(
            tx,
            at=now,
            actor=actor,
            account_id=None,
            action="guest.unrecovered",
            subject=f"session:{session_id}",
            detail={},
        )


async def load_unrecovered(db: Queries, window: tuple[str, str]) -> frozenset[str]:
    rows = await db.fetch(
        "SELECT g.session_id FROM guest_unrecovered_sessions g JOIN sessions s"
        " ON s.id = g.session_id WHERE s.started_at >= ? AND s.started_at < ?",
        *window,
    )
    return frozenset(str(r["session_id"]) for r in rows)
