"""Invoicing: the monthly run over the store, and the documents it keeps (backend.billing is
the pure domain; this package is its storage side).

    invoicing = Invoicing(store.db)
    summary = await invoicing.run_month(Month.parse("2025-01"), now=now)    # idempotent
    page = await invoicing.list_invoices(scope=account_id)
    detail = await invoicing.get_invoice(invoice_id, scope=account_id)     # lines + VAT
    await invoicing.record_indexation(Decimal("3.1"), planned_on, announced_on, now=now)
    await invoicing.set_lease_driver(account_id, cp_id, Decimal("22.5"), iban, active_from, now=now)
    await invoicing.mark_reimbursement_paid(account_id, "2025-02", paid_on, "EFLUX-R-…", now=now)
    pdf = await invoicing.invoice_pdf(invoice_id, scope=account_id)         # bytes

`scope` is the caller's account id (None = an admin): a document of another account raises
`backend.store.NotFound`, exactly like a missing one. Invalid input raises `Invalid`, a state
that does not allow the step `Conflict`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from ..billing.calendar import Month
from ..billing.charges import OneOffCharge
from ..billing.outages import OutageCause
from ..storage import Database
from . import events, guests, indexations, lease, payments, payouts, prepaid, queries, switches
from .models import (
    InvoiceDetail,
    InvoiceLineView,
    InvoiceSummary,
    PaymentState,
    PlanSwitchRecord,
    PrepaidEntryView,
    PrepaidLedgerView,
    ReimbursementView,
    RunSummary,
    VatBreakdown,
)
from .pdf import render_pdf
from .run import invoice_month

__all__ = [
    "InvoiceDetail",
    "InvoiceLineView",
    "InvoiceSummary",
    "Invoicing",
    "PaymentState",
    "PlanSwitchRecord",
    "PrepaidEntryView",
    "PrepaidLedgerView",
    "ReimbursementView",
    "RunSummary",
    "VatBreakdown",
]


class Invoicing:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- the monthly run ----------------------------------------------------------------------
    async def run_month(
        self, month: Month, *, now: datetime, issued_on: date | None = None
    ) -> RunSummary:
        """Invoice `month` idempotently (a second run issues nothing and changes nothing)."""
        return await invoice_month(self.db, month, now=now, issued_on=issued_on)

    async def add_charge(self, account_id: int, charge: OneOffCharge, *, now: datetime) -> int:
        """A one-off charge (transfer, misuse, interest) for the invoice of `charge.on`'s month."""
        return await events.add_charge(self.db, account_id, charge, now=now)

    async def record_outage(
        self,
        subscription_id: int,
        started_at: datetime,
        ended_at: datetime,
        cause: OutageCause,
        *,
        now: datetime,
    ) -> int:
        return await events.record_outage(
            self.db, subscription_id, started_at, ended_at, cause, now=now
        )

    async def record_indexation(
        self, cpi_percent: Decimal, planned_on: date, announced_on: date, *, now: datetime
    ) -> int:
        """The yearly CPI indexation; fees of customers of more than 3 months follow it from
        the billing month after it takes effect."""
        return await indexations.record_indexation(
            self.db, cpi_percent, planned_on, announced_on, now=now
        )

    # ---- guest usage (art. 28.7) ---------------------------------------------------------------
    async def set_electricity_cost(
        self, account_id: int, cents_per_kwh: Decimal, *, now: datetime
    ) -> None:
        """What a guest-usage owner pays for electricity, incl. VAT (the not-recovered cap)."""
        await guests.set_electricity_cost(self.db, account_id, cents_per_kwh, now=now)

    async def flag_unrecovered(self, session_id: int, *, now: datetime) -> None:
        """A guest session not recovered from the guest's MSP: paid out at most at cost."""
        await guests.flag_unrecovered(self.db, session_id, now=now)

    # ---- lease drivers ------------------------------------------------------------------------
    async def set_lease_driver(
        self,
        account_id: int,
        charge_point_id: int,
        rate_cents_per_kwh: Decimal,
        iban: str | None,
        active_from: date | None,
        *,
        now: datetime,
    ) -> None:
        """A lease driver's reimbursement terms (replacing earlier ones)."""
        await lease.set_lease_driver(
            self.db, account_id, charge_point_id, rate_cents_per_kwh, iban, active_from, now=now
        )

    async def list_reimbursements(
        self, account_id: int, scope: int | None
    ) -> list[ReimbursementView]:
        return await lease.list_reimbursements(self.db, account_id, scope)

    async def mark_reimbursement_paid(
        self,
        account_id: int,
        month: str,
        paid_on: date,
        reference: str,
        *,
        now: datetime,
        actor: str = "system",
    ) -> ReimbursementView:
        """Record a statement's bank transfer (pending → paid; a paid one never changes)."""
        return await payouts.mark_paid(
            self.db, account_id, month, paid_on, reference, now=now, actor=actor
        )

    # ---- documents (read) ---------------------------------------------------------------------
    async def list_invoices(
        self, scope: int | None, *, limit: int = 50, after: int = 0, month: str | None = None
    ) -> list[InvoiceSummary]:
        return await queries.list_invoices(self.db, scope, limit=limit, after=after, month=month)

    async def list_credit_notes(
        self, scope: int | None, *, limit: int = 50, after: int = 0, month: str | None = None
    ) -> list[InvoiceSummary]:
        return await queries.list_credit_notes(
            self.db, scope, limit=limit, after=after, month=month
        )

    async def get_invoice(self, invoice_id: int, scope: int | None) -> InvoiceDetail:
        return await queries.get_invoice(self.db, invoice_id, scope)

    async def invoice_pdf(self, invoice_id: int, scope: int | None) -> bytes:
        return render_pdf(await queries.get_invoice(self.db, invoice_id, scope))

    # ---- payments -----------------------------------------------------------------------------
    async def payment_state(self, invoice_id: int, scope: int | None, as_of: date) -> PaymentState:
        return await payments.payment_state(self.db, invoice_id, scope, as_of)

    async def record_payment(self, invoice_id: int, cents: int, *, now: datetime) -> PaymentState:
        return await payments.record_payment(self.db, invoice_id, cents, now=now)

    async def send_reminder(self, invoice_id: int, on: date, *, now: datetime) -> PaymentState:
        return await payments.send_reminder(self.db, invoice_id, on, now=now)

    # ---- prepaid ------------------------------------------------------------------------------
    async def prepaid_ledger(self, account_id: int, scope: int | None) -> PrepaidLedgerView:
        return await prepaid.prepaid_ledger(self.db, account_id, scope)

    async def top_up(
        self, account_id: int, entry_id: str, cents: int, *, at: datetime
    ) -> PrepaidLedgerView:
        return await prepaid.top_up(self.db, account_id, entry_id, cents, at=at)

    # ---- plan switches ------------------------------------------------------------------------
    async def switch_plan(
        self,
        subscription_id: int,
        new_plan_code: str,
        on: date,
        scope: int | None,
        *,
        now: datetime,
    ) -> PlanSwitchRecord:
        return await switches.record_plan_switch(
            self.db, subscription_id, new_plan_code, on, scope, now=now
        )
