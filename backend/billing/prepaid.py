"""Prepaid card ledger (art. 3.1, 10.7-10.11, 13.1).

Top-ups and session deductions are entries with their own id: applying the same entry twice
changes nothing (a repeated sync loses and doubles nothing); the same id with other content is
refused. A session may start only with a balance of at least €10; a session that started with
enough balance is deducted in full even if that takes the balance below zero (it was
authorised), and the next top-up settles it. Termination refunds the balance minus €15 admin
costs within 10 business days, or invoices the shortfall when the balance is below €15.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from .calendar import Month, add_business_days, require_aware
from .errors import BillingError, InvalidTransition
from .invoices import DocumentKind, InvoiceDraft, InvoiceLine, LineKind, due_date
from .money import VatRate, VatSplit, format_eur, require_cents
from .plans import PREPAID_MINIMUM_START_CENTS, PREPAID_TERMINATION_FEE
from .sessions import ChargingSession

REFUND_BUSINESS_DAYS = 10


class EntryKind(StrEnum):
    TOP_UP = "top_up"
    SESSION = "session"
    CORRECTION = "correction"  # art. 10.7: a wrong top-up or deduction corrected


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: str
    kind: EntryKind
    at: datetime
    cents: int  # + credit, - debit

    def __post_init__(self) -> None:
        require_aware(self.at, f"ledger entry {self.id}")
        require_cents(self.cents, f"ledger entry {self.id}")


@dataclass(frozen=True, slots=True)
class PrepaidLedger:
    account_id: str
    entries: tuple[LedgerEntry, ...] = ()
    closed_on: date | None = None

    @property
    def balance(self) -> int:
        return sum(e.cents for e in self.entries)

    def may_start_session(self) -> bool:
        """Art. 10.9: at least €10 balance (a balance of €9.99 cannot start)."""
        return self.closed_on is None and self.balance >= PREPAID_MINIMUM_START_CENTS


def _add(ledger: PrepaidLedger, entry: LedgerEntry) -> PrepaidLedger:
    if ledger.closed_on is not None:
        raise InvalidTransition(
            f"prepaid agreement of {ledger.account_id} ended {ledger.closed_on}"
        )
    for existing in ledger.entries:
        if existing.id == entry.id:
            if existing == entry:
                return ledger
            raise BillingError(f"ledger entry {entry.id} already exists with other content")
    return replace(ledger, entries=(*ledger.entries, entry))


def top_up(ledger: PrepaidLedger, entry_id: str, cents: int, at: datetime) -> PrepaidLedger:
    if require_cents(cents, "top-up") <= 0:
        raise BillingError("a top-up must be a positive amount")
    return _add(ledger, LedgerEntry(entry_id, EntryKind.TOP_UP, at, cents))


def correct(ledger: PrepaidLedger, entry_id: str, cents: int, at: datetime) -> PrepaidLedger:
    return _add(ledger, LedgerEntry(entry_id, EntryKind.CORRECTION, at, cents))


def deduct_session(ledger: PrepaidLedger, session: ChargingSession) -> PrepaidLedger:
    cost = session.cost().split().gross
    return _add(ledger, LedgerEntry(session.id, EntryKind.SESSION, session.stopped_at, -cost))


@dataclass(frozen=True, slots=True)
class PrepaidTermination:
    ledger: PrepaidLedger  # closed
    balance: int
    fee: VatSplit  # the €15 admin costs
    refund: int  # paid back to the customer (0 when short)
    refund_due_by: date | None
    shortfall_invoice: InvoiceDraft | None  # when the balance is below €15


def terminate(ledger: PrepaidLedger, on: date) -> PrepaidTermination:
    """Prepaid can always be ended (art. 13.1); settle the balance (art. 10.11)."""
    if ledger.closed_on is not None:
        raise InvalidTransition(f"prepaid agreement of {ledger.account_id} already ended")
    closed = replace(ledger, closed_on=on)
    balance, fee = ledger.balance, PREPAID_TERMINATION_FEE.split()
    if balance >= fee.gross:
        refund = balance - fee.gross
        return PrepaidTermination(
            closed, balance, fee, refund, add_business_days(on, REFUND_BUSINESS_DAYS), None
        )
    lines = [InvoiceLine(LineKind.PREPAID_TERMINATION, "Admin costs ending prepaid charging", fee)]
    if balance:
        # The balance is money paid on account (no supply yet), so its set-off carries no VAT.
        set_off = VatSplit(-balance, 0, -balance, VatRate.OUT_OF_SCOPE)
        text = f"Prepaid balance set off ({format_eur(balance)})"
        lines.append(InvoiceLine(LineKind.PREPAID_TERMINATION, text, set_off, ref="balance"))
    draft = InvoiceDraft(
        DocumentKind.INVOICE,
        ledger.account_id,
        Month.of(on),
        on,
        tuple(lines),
        due_date(on),
        key="prepaid-termination",
    )
    return PrepaidTermination(closed, balance, fee, 0, None, draft)
