"""Payment terms, reminders, suspension, interest and disputes (art. 10.3-10.5).

- due 14 days after the invoice date; then a reminder with 14 more days;
- after that: the service may be suspended, and 1 % interest per (part of a) month from the
  invoice date over the amount still open, with a minimum of €40. Interest and collection
  costs are compensation, not a supply, so they carry no VAT (the terms' "excl. btw" is met:
  we add none);
- a dispute must reach us within 14 days of the invoice date (a consumer who could not have
  noticed earlier is not held to that); only the disputed lines may be withheld, the rest stays
  due on time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction

from .calendar import months_started
from .charges import OneOffCharge
from .errors import BillingError, DeadlinePassed, InvalidTransition
from .invoices import Invoice, LineKind
from .money import Price, VatRate, require_cents, round_half_up
from .plans import LATE_PAYMENT_MINIMUM_CENTS

REMINDER_TERM_DAYS = 14
DISPUTE_DAYS = 14
INTEREST_PER_MONTH = Fraction(1, 100)


@dataclass(frozen=True, slots=True)
class Dispute:
    invoice_number: str
    line_numbers: frozenset[int]  # 1-based positions on the invoice
    raised_on: date


def raise_dispute(
    invoice: Invoice,
    line_numbers: Iterable[int],
    on: date,
    *,
    could_not_discover_earlier: bool = False,
) -> Dispute:
    lines = frozenset(line_numbers)
    if not lines:
        raise BillingError("a dispute names at least one invoice line")
    unknown = sorted(n for n in lines if not 1 <= n <= len(invoice.lines))
    if unknown:
        raise BillingError(f"invoice {invoice.number} has no line(s) {unknown}")
    deadline = invoice.issued_on + timedelta(days=DISPUTE_DAYS)
    if on > deadline and not could_not_discover_earlier:
        raise DeadlinePassed(
            f"disputes on invoice {invoice.number} had to reach us by {deadline} (art. 10.5)"
        )
    return Dispute(invoice.number, lines, on)


def withheld(invoice: Invoice, disputes: Iterable[Dispute]) -> int:
    """Gross amount the customer may hold back: the disputed charge lines, each counted once."""
    numbers: set[int] = set()
    for dispute in disputes:
        if dispute.invoice_number != invoice.number:
            raise BillingError(f"dispute for {dispute.invoice_number} on {invoice.number}")
        numbers |= dispute.line_numbers
    return sum(max(0, invoice.lines[n - 1].amount.gross) for n in numbers)


class Stage(StrEnum):
    PAID = "paid"
    OPEN = "open"  # not due yet
    OVERDUE = "overdue"  # due date passed, no reminder sent yet
    REMINDED = "reminded"  # reminder sent, its 14 days running
    DEFAULTED = "defaulted"  # reminder term passed: suspension and interest possible


@dataclass(frozen=True, slots=True)
class CollectionState:
    stage: Stage
    due_on: date
    outstanding: int  # undisputed and unpaid, gross cents
    withheld: int
    reminder_due_on: date | None
    may_suspend: bool
    late_payment_cents: int  # interest (≥ €40) owed as of the date asked, 0 before default


def late_payment_cents(outstanding: int, issued_on: date, as_of: date) -> int:
    """1 % per started month since the invoice date over `outstanding`, at least €40."""
    months = max(1, months_started(issued_on, as_of))
    return max(round_half_up(outstanding * INTEREST_PER_MONTH * months), LATE_PAYMENT_MINIMUM_CENTS)


def collection_state(
    invoice: Invoice,
    as_of: date,
    *,
    paid: int = 0,
    reminder_sent_on: date | None = None,
    disputes: Iterable[Dispute] = (),
) -> CollectionState:
    require_cents(paid, "paid")
    due_on = invoice.draft.due_on
    held = withheld(invoice, disputes)
    outstanding = max(0, invoice.totals.gross - held - paid)
    reminder_due = None
    if reminder_sent_on is not None:
        if reminder_sent_on <= due_on:
            raise InvalidTransition(f"a reminder may only follow the due date {due_on}")
        reminder_due = reminder_sent_on + timedelta(days=REMINDER_TERM_DAYS)
    if outstanding == 0:
        stage = Stage.PAID
    elif as_of <= due_on:
        stage = Stage.OPEN
    elif reminder_due is None or reminder_sent_on is None or as_of < reminder_sent_on:
        stage = Stage.OVERDUE
    elif as_of <= reminder_due:
        stage = Stage.REMINDED
    else:
        stage = Stage.DEFAULTED
    defaulted = stage is Stage.DEFAULTED
    interest = late_payment_cents(outstanding, invoice.issued_on, as_of) if defaulted else 0
    return CollectionState(stage, due_on, outstanding, held, reminder_due, defaulted, interest)


def late_payment_charge(
    invoice: Invoice, state: CollectionState, as_of: date, charge_id: str
) -> OneOffCharge:
    """The interest as a charge for the next invoice (outside the scope of VAT)."""
    if state.stage is not Stage.DEFAULTED:
        raise InvalidTransition(f"invoice {invoice.number} is {state.stage.value}, not defaulted")
    return OneOffCharge(
        charge_id,
        invoice.draft.account_id,
        as_of,
        LineKind.LATE_PAYMENT,
        f"Interest and collection costs on invoice {invoice.number}",
        Price.net(state.late_payment_cents, VatRate.OUT_OF_SCOPE),
    )
