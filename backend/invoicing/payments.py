"""Payments and reminders on stored invoices (art. 10.3-10.4): the rules are
backend.billing.payments; this records what happened and reads the state back."""

from __future__ import annotations

from datetime import date, datetime

from ..billing.invoices import DocumentKind
from ..billing.payments import collection_state
from ..storage import Database
from ..store.audit import AuditLog
from ..store.errors import Conflict, Invalid
from .convert import domain_invoice
from .models import PaymentState
from .queries import get_invoice, get_summary


def _reminder_on(status_day: str | None) -> date | None:
    return date.fromisoformat(status_day) if status_day else None


async def payment_state(
    db: Database, invoice_id: int, scope: int | None, as_of: date
) -> PaymentState:
    detail = await get_invoice(db, invoice_id, scope)
    doc = detail.invoice
    if doc.kind == DocumentKind.CREDIT_NOTE.value:
        raise Invalid(f"{doc.number} is a credit note: we pay it out, nothing is due")
    reminded = _reminder_on(
        await db.fetchval("SELECT reminder_sent_on FROM invoices WHERE id = ?", invoice_id)
    )
    state = collection_state(
        domain_invoice(doc, detail.lines), as_of, paid=doc.paid_cents, reminder_sent_on=reminded
    )
    return PaymentState(
        doc.id,
        doc.number,
        state.stage.value,
        state.due_on,
        state.outstanding,
        doc.paid_cents,
        reminded,
        state.reminder_due_on,
        state.may_suspend,
        state.late_payment_cents,
    )


async def record_payment(
    db: Database, invoice_id: int, cents: int, *, now: datetime, actor: str = "system"
) -> PaymentState:
    """Add a received payment; the invoice turns `paid` once the gross is covered."""
    if isinstance(cents, bool) or not isinstance(cents, int) or cents <= 0:
        raise Invalid("a payment is a positive amount of integer cents")
    doc = await get_summary(db, invoice_id, None)
    if doc.kind == DocumentKind.CREDIT_NOTE.value:
        raise Invalid(f"{doc.number} is a credit note: it receives no payments")
    async with db.transaction() as tx:
        paid = int(
            await tx.fetchval(
                "UPDATE invoices SET paid_cents = paid_cents + ? WHERE id = ? RETURNING paid_cents",
                cents,
                invoice_id,
            )
        )
        if paid >= doc.gross_cents:
            await tx.execute("UPDATE invoices SET status = 'paid' WHERE id = ?", invoice_id)
        await AuditLog.add(
            tx,
            at=now,
            actor=actor,
            account_id=doc.account_id,
            action="invoice.payment",
            subject=f"invoice:{invoice_id}",
            detail={"cents": cents, "paid_cents": paid},
        )
    return await payment_state(db, invoice_id, None, now.date())


async def send_reminder(
    db: Database, invoice_id: int, on: date, *, now: datetime, actor: str = "system"
) -> PaymentState:
    """Record the reminder (after the due date; 14 more days to pay)."""
    state = await payment_state(db, invoice_id, None, on)
    if state.reminder_sent_on is not None:
        raise Conflict(f"a reminder for {state.number} was sent on {state.reminder_sent_on}")
    if state.stage != "overdue":
        raise Conflict(f"invoice {state.number} is {state.stage}: no reminder is due")
    doc = await get_summary(db, invoice_id, None)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE invoices SET reminder_sent_on = ?, status = 'reminded' WHERE id = ?",
            on.isoformat(),
            invoice_id,
        )
        await AuditLog.add(
            tx,
            at=now,
            actor=actor,
            account_id=doc.account_id,
            action="invoice.reminder",
            subject=f"invoice:{invoice_id}",
            detail={"on": on.isoformat()},
        )
    return await payment_state(db, invoice_id, None, on)
