"""What the invoicing queries return (frozen; money in integer cents; dates are `date`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class InvoiceSummary:
    """One stored document: a monthly invoice, an overage invoice or a credit note."""

    id: int
    number: str  # F-2025-000001 (invoices) or C-2025-000001 (credit notes)
    account_id: int
    kind: str  # "invoice", "overage_invoice" or "credit_note" (backend.billing DocumentKind)
    period: str  # the billing or usage month, YYYY-MM
    issued_on: date
    due_on: date  # payment due (invoices) or payout date (credit notes)
    status: str  # open, paid, reminded, suspended, void
    net_cents: int
    vat_cents: int
    gross_cents: int
    paid_cents: int


@dataclass(frozen=True, slots=True)
class InvoiceLineView:
    position: int  # 1-based, as printed (disputes name these)
    kind: str  # backend.billing LineKind value
    description: str
    quantity: Decimal
    unit: str
    vat_rate: str  # "standard" (21 %) or "out_of_scope"
    net_cents: int
    vat_cents: int
    gross_cents: int
    ref: str  # what it bills: contract, session or charge id


@dataclass(frozen=True, slots=True)
class VatBreakdown:
    rate: str
    percent: int
    net_cents: int
    vat_cents: int


@dataclass(frozen=True, slots=True)
class InvoiceDetail:
    invoice: InvoiceSummary
    customer_name: str
    customer_address: str | None
    customer_vat_number: str | None
    lines: tuple[InvoiceLineView, ...]
    vat: tuple[VatBreakdown, ...]  # per rate used, sums of the lines


@dataclass(frozen=True, slots=True)
class PaymentState:
    """Where an invoice stands on `as_of` (art. 10.3-10.4, backend.billing.payments)."""

    invoice_id: int
    number: str
    stage: str  # paid, open, overdue, reminded, defaulted
    due_on: date
    outstanding_cents: int
    paid_cents: int
    reminder_sent_on: date | None
    reminder_due_on: date | None
    may_suspend: bool
    late_payment_cents: int  # interest (at least €40) owed once defaulted, else 0


@dataclass(frozen=True, slots=True)
class PrepaidEntryView:
    entry_id: str
    kind: str  # top_up, session, correction
    at: datetime
    cents: int  # + credit, - debit


@dataclass(frozen=True, slots=True)
class PrepaidLedgerView:
    account_id: int
    balance_cents: int
    may_start_session: bool  # art. 10.9: at least €10
    entries: tuple[PrepaidEntryView, ...]


@dataclass(frozen=True, slots=True)
class PlanSwitchRecord:
    id: int
    subscription_id: int
    requested_on: date
    new_plan_code: str
    effective_on: date  # the 1st of the next month
    fee_cents: int  # €7.50 incl. VAT, billed on the invoice for the month of the request


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What `eflux-backend invoice --month` did."""

    month: str
    issued: int  # documents issued by this run (0 on a re-run)
    invoices: int
    overage_invoices: int
    credit_notes: int
    invoiced_gross_cents: int  # invoices and overage invoices issued now
    credited_gross_cents: int  # credit notes issued now (payouts to owners)
    sessions: int  # sessions loaded for the month
    skipped: tuple[tuple[str, str], ...]  # (ref, reason) the run could not bill
    numbers: tuple[str, ...]  # first and last number issued per series, for the log
    run_at: datetime | None = None  # set when the month had been run before (a re-run)


@dataclass(frozen=True, slots=True)
class ReimbursementGroupView:
    """One line of a statement: sessions of one month of use at one rate."""

    usage_month: str  # YYYY-MM the sessions started in
    late: bool  # of an earlier month, recorded after that month's run
    rate_cents_per_kwh: Decimal
    energy_wh: int
    cents: int


@dataclass(frozen=True, slots=True)
class ReimbursementView:
    """A lease driver's statement of one month: that month's home charging and the late
    sessions of earlier months, reimbursed at the lease company's rate of the time (no VAT:
    paid on the lease company's behalf); payable once an IBAN is set."""

    account_id: int
    month: str  # YYYY-MM of the statement (the run that made it)
    energy_wh: int
    cents: int
    rate_cents_per_kwh: Decimal  # the rate of the month's own sessions
    iban: str | None
    session_ids: tuple[int, ...]
    groups: tuple[ReimbursementGroupView, ...] = ()  # empty for statements made before 0060
    status: str = "pending"  # pending, paid
    paid_on: date | None = None
    payout_reference: str | None = None

    @property
    def payable(self) -> bool:
        return self.iban is not None and self.cents > 0
