"""Invoices, credit notes and their gapless numbering (art. 10.1, 10.3, 22.1 b, 28.6).

An invoice is a value: lines with net/VAT/gross each, totals that are the sums of the lines.
Numbers are given out in one deterministic order after a run has built its drafts, one series
per document type and year ("F-2025-000001", credit notes "C-2025-000001"): no number is taken
by a draft that is not issued, so the series has no gaps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from .calendar import Month
from .errors import BillingError
from .money import VatRate, VatSplit, format_eur

PAYMENT_TERM_DAYS = 14  # art. 10.3


class LineKind(StrEnum):
    SUBSCRIPTION_FEE = "subscription_fee"
    PLAN_SWITCH_FEE = "plan_switch_fee"
    IDLE_FEE = "idle_fee"
    SESSION = "session"
    OVERAGE = "overage"
    LOST_CARD_FEE = "lost_card_fee"
    TRANSFER_FEE = "transfer_fee"
    MISUSE = "misuse"
    OUTAGE_CREDIT = "outage_credit"
    LATE_PAYMENT = "late_payment"
    MINIMUM_TERM_FEE = "minimum_term_fee"
    PREPAID_TERMINATION = "prepaid_termination"
    GUEST_USAGE = "guest_usage"
    OTHER = "other"


class DocumentKind(StrEnum):
    INVOICE = "invoice"  # the monthly invoice
    OVERAGE_INVOICE = "overage_invoice"  # bundle overage, separate (art. 22.1 b)
    CREDIT_NOTE = "credit_note"  # guest usage payout (art. 28.6)

    @property
    def series(self) -> str:
        return "C" if self is DocumentKind.CREDIT_NOTE else "F"


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    kind: LineKind
    description: str
    amount: VatSplit
    ref: str = ""  # what it bills (contract, session, charge id): for disputes and audits
    quantity: Decimal = Decimal(1)
    unit: str = ""


@dataclass(frozen=True, slots=True)
class Totals:
    net: int
    vat: int
    gross: int
    vat_by_rate: tuple[tuple[VatRate, int, int], ...]  # (rate, net, VAT) per rate used

    @classmethod
    def of(cls, lines: Iterable[InvoiceLine]) -> Totals:
        net = vat = gross = 0
        per_rate: dict[VatRate, tuple[int, int]] = {}
        for line in lines:
            net, vat, gross = (
                net + line.amount.net,
                vat + line.amount.vat,
                gross + line.amount.gross,
            )
            rate_net, rate_vat = per_rate.get(line.amount.rate, (0, 0))
            per_rate[line.amount.rate] = (rate_net + line.amount.net, rate_vat + line.amount.vat)
        rates = tuple((rate, n, v) for rate, (n, v) in sorted(per_rate.items()))
        return cls(net, vat, gross, rates)


@dataclass(frozen=True, slots=True)
class InvoiceDraft:
    kind: DocumentKind
    account_id: str
    period: Month  # the billing or usage month
    issued_on: date
    lines: tuple[InvoiceLine, ...]
    due_on: date  # payment due (invoices) or payout date (credit notes)
    key: str = ""  # extra identity when an account gets several of one kind in a month
    sessions: tuple[str, ...] = ()  # ids of the sessions it accounts for (billed or in a bundle)

    def __post_init__(self) -> None:
        if not self.lines:
            raise BillingError("an invoice needs at least one line")

    @property
    def identity(self) -> tuple[str, str, str, str]:
        return (self.account_id, str(self.period), self.kind.value, self.key)

    @property
    def totals(self) -> Totals:
        return Totals.of(self.lines)


@dataclass(frozen=True, slots=True)
class Invoice:
    number: str
    draft: InvoiceDraft

    @property
    def totals(self) -> Totals:
        return self.draft.totals

    @property
    def lines(self) -> tuple[InvoiceLine, ...]:
        return self.draft.lines

    @property
    def issued_on(self) -> date:
        return self.draft.issued_on


def due_date(issued_on: date) -> date:
    return issued_on + timedelta(days=PAYMENT_TERM_DAYS)


type NumberState = Mapping[str, int]  # series key ("F-2025") → last number issued


def _order(d: InvoiceDraft) -> tuple[date, str, str, str, str, str]:
    return (d.issued_on, d.kind.series, d.account_id, str(d.period), d.kind.value, d.key)


def assign_numbers(
    drafts: Iterable[InvoiceDraft], state: NumberState
) -> tuple[list[Invoice], dict[str, int]]:
    """Number `drafts` consecutively after `state`; return the invoices and the new state."""
    ordered = sorted(drafts, key=_order)
    seen: set[tuple[str, str, str, str]] = set()
    last = dict(state)
    invoices = []
    for draft in ordered:
        if draft.identity in seen:
            raise BillingError(f"two drafts for the same document: {draft.identity}")
        seen.add(draft.identity)
        series = f"{draft.kind.series}-{draft.issued_on.year}"
        last[series] = last.get(series, 0) + 1
        invoices.append(Invoice(f"{series}-{last[series]:06d}", draft))
    return invoices, last


def describe(invoice: Invoice) -> str:
    """A plain-text rendering (docs, logs, the CLI's dry run)."""
    draft, totals = invoice.draft, invoice.totals
    rows = [
        f"{draft.kind.value} {invoice.number} {draft.account_id} {draft.period} "
        f"dated {draft.issued_on} due {draft.due_on}"
    ]
    numbered = [(f"{n:3d}", line.description, line.amount) for n, line in enumerate(draft.lines, 1)]
    total = ("   ", "total", VatSplit(totals.net, totals.vat, totals.gross))
    for number, text, a in [*numbered, total]:
        rows.append(
            f"{number} {text:<60} {format_eur(a.net):>12} {format_eur(a.vat):>10} "
            f"{format_eur(a.gross):>12}"
        )
    return "\n".join(rows)
