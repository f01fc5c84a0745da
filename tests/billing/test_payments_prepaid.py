"""DESIGN §4 rows "invoices" (payment term, reminder, suspension, interest, disputes) and
"prepaid" (≥ €10 to start, refund minus €15 within 10 business days or invoice the shortfall)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from backend.billing.calendar import Month
from backend.billing.charges import CardRecord
from backend.billing.errors import BillingError, DeadlinePassed, InvalidTransition
from backend.billing.invoicer import MonthInput, run_month
from backend.billing.invoices import Invoice
from backend.billing.money import VatRate, VatSplit
from backend.billing.payments import (
    Stage,
    collection_state,
    late_payment_cents,
    late_payment_charge,
    raise_dispute,
)
from backend.billing.prepaid import PrepaidLedger, deduct_session, terminate, top_up
from backend.billing.sessions import SessionTariff
from backend.billing.switches import request_switch

from .factories import CP_FIXED, CP_FLEX, PREPAID, active_contract, local, session


def _march_invoice() -> Invoice:
    """€12.50 fee + €7.50 switch fee, dated 1 April 2025, due 15 April."""
    contract = active_contract(CP_FIXED, date(2025, 1, 1))
    switch = request_switch(contract, [], CP_FLEX, date(2025, 3, 10))
    run = run_month(MonthInput(Month(2025, 3), [contract], switches=[switch]), {})
    (invoice,) = run.invoices
    assert invoice.totals.gross == 2000
    return invoice


@pytest.mark.parametrize(
    ("as_of", "reminder_on", "stage", "interest"),
    [
        (date(2025, 4, 15), None, Stage.OPEN, 0),  # due date itself: still on time
        (date(2025, 4, 16), None, Stage.OVERDUE, 0),
        (date(2025, 4, 30), date(2025, 4, 16), Stage.REMINDED, 0),  # reminder + 14 days
        (date(2025, 5, 1), date(2025, 4, 16), Stage.DEFAULTED, 4000),  # 1 % of €20 → €40 minimum
    ],
)
def test_payment_term_reminder_and_default(
    as_of: date, reminder_on: date | None, stage: Stage, interest: int
) -> None:
    state = collection_state(_march_invoice(), as_of, reminder_sent_on=reminder_on)
    assert state.due_on == date(2025, 4, 15)
    assert (state.stage, state.late_payment_cents, state.may_suspend) == (
        stage,
        interest,
        stage is Stage.DEFAULTED,
    )


def test_reminder_before_the_due_date_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="only follow the due date"):
        collection_state(_march_invoice(), date(2025, 4, 20), reminder_sent_on=date(2025, 4, 15))


@pytest.mark.parametrize(
    ("outstanding", "paid_on", "cents"),
    [
        (500_000, date(2025, 5, 1), 5000),  # one month: 1 % of €5,000
        (500_000, date(2025, 5, 2), 10000),  # one day into the second month: 2 %
        (500_000, date(2025, 7, 1), 15000),
        (100_000, date(2025, 6, 15), 4000),  # 3 % of €1,000 = €30 → €40 minimum
    ],
)
def test_interest_per_started_month_from_the_invoice_date(
    outstanding: int, paid_on: date, cents: int
) -> None:
    assert late_payment_cents(outstanding, date(2025, 4, 1), paid_on) == cents


def test_late_payment_charge_carries_no_vat() -> None:
    invoice = _march_invoice()
    state = collection_state(invoice, date(2025, 5, 1), reminder_sent_on=date(2025, 4, 16))
    charge = late_payment_charge(invoice, state, date(2025, 5, 1), "late-1")
    assert charge.price.split() == VatSplit(4000, 0, 4000, VatRate.OUT_OF_SCOPE)
    with pytest.raises(InvalidTransition, match="not defaulted"):
        late_payment_charge(
            invoice, collection_state(invoice, date(2025, 4, 2)), date(2025, 4, 2), "x"
        )


def test_dispute_withholds_only_the_disputed_line() -> None:
    invoice = _march_invoice()
    dispute = raise_dispute(invoice, [2], date(2025, 4, 15))  # the last day (invoice + 14)
    on_time = collection_state(invoice, date(2025, 4, 15), paid=1250, disputes=[dispute])
    assert (on_time.stage, on_time.withheld, on_time.outstanding) == (Stage.PAID, 750, 0)
    short = collection_state(
        invoice, date(2025, 5, 1), paid=1000, disputes=[dispute], reminder_sent_on=date(2025, 4, 16)
    )
    assert (short.stage, short.outstanding, short.late_payment_cents) == (
        Stage.DEFAULTED,
        250,
        4000,
    )


def test_late_or_malformed_disputes_are_refused() -> None:
    invoice = _march_invoice()
    with pytest.raises(DeadlinePassed, match="2025-04-15"):
        raise_dispute(invoice, [1], date(2025, 4, 16))
    assert raise_dispute(invoice, [1], date(2025, 6, 1), could_not_discover_earlier=True)
    with pytest.raises(BillingError, match=r"no line\(s\) \[3\]"):
        raise_dispute(invoice, [1, 3], date(2025, 4, 2))
    with pytest.raises(BillingError, match="at least one"):
        raise_dispute(invoice, [], date(2025, 4, 2))


# Row "prepaid".
def _ledger(*amounts: int) -> PrepaidLedger:
    ledger = PrepaidLedger("p1")
    for n, cents in enumerate(amounts):
        ledger = top_up(ledger, f"t{n}", cents, local(f"2025-04-0{n + 1} 10:00"))
    return ledger


@pytest.mark.parametrize(("balance", "may_start"), [(999, False), (1000, True), (0, False)])
def test_a_session_needs_ten_euro(balance: int, may_start: bool) -> None:
    ledger = _ledger(balance) if balance else PrepaidLedger("p1")
    assert ledger.balance == balance
    assert ledger.may_start_session() is may_start


def test_deductions_are_idempotent_and_may_go_below_zero() -> None:
    ledger = _ledger(1000)
    charge = session("s1", "2025-04-05 10:00", 105, 20_000)  # €14.25
    after = deduct_session(ledger, charge)
    assert after.balance == -425
    assert deduct_session(after, charge) == after  # a repeated sync changes nothing
    assert top_up(after, "t0", 1000, local("2025-04-01 10:00")) == after
    with pytest.raises(BillingError, match="other content"):
        top_up(after, "t0", 2000, local("2025-04-01 10:00"))
    for bad in (0, -5):
        with pytest.raises(BillingError, match="positive"):
            top_up(after, "bad", bad, local("2025-04-06 10:00"))
    with pytest.raises(BillingError, match="integer euro cents"):
        top_up(after, "bad", 10.0, local("2025-04-06 10:00"))  # type: ignore[arg-type]
    assert after.entries == deduct_session(ledger, charge).entries  # nothing lost


def _ledger_with(balance: int) -> PrepaidLedger:
    """€50 topped up, then a session costing whatever leaves `balance`."""
    cost = SessionTariff(start_cents=Decimal(5000 - balance))
    return deduct_session(_ledger(5000), session("s1", "2025-04-05 10:00", 0, 0, tariff=cost))


@pytest.mark.parametrize(
    ("balance", "refund", "shortfall_lines"),
    [
        (5000, 3500, None),
        (1500, 0, None),
        (999, 0, [(1240, 260, 1500), (-999, 0, -999)]),  # invoiced €5.01
        (-425, 0, [(1240, 260, 1500), (425, 0, 425)]),  # the negative balance is owed too
    ],
)
def test_termination_refund_or_shortfall(
    balance: int, refund: int, shortfall_lines: list[tuple[int, int, int]] | None
) -> None:
    result = terminate(_ledger_with(balance), date(2025, 4, 24))
    assert (result.balance, result.refund, result.fee.gross) == (balance, refund, 1500)
    if shortfall_lines is None:
        assert result.shortfall_invoice is None
        assert result.refund_due_by == date(2025, 5, 9)  # 10 business days, 5 May is a holiday
    else:
        assert result.shortfall_invoice is not None
        assert [
            (line.amount.net, line.amount.vat, line.amount.gross)
            for line in result.shortfall_invoice.lines
        ] == shortfall_lines
        assert result.shortfall_invoice.totals.gross == 1500 - balance
    assert not result.ledger.may_start_session()
    with pytest.raises(InvalidTransition, match="ended"):
        top_up(result.ledger, "late", 1000, local("2025-04-25 10:00"))


def test_prepaid_sessions_are_not_on_the_monthly_invoice() -> None:
    contract = active_contract(PREPAID, date(2025, 4, 1))
    inp = MonthInput(
        Month(2025, 4),
        [contract],
        [CardRecord("card1", "a1", "c1")],
        [session("s1", "2025-04-05 10:00", 60, 9_000)],
    )
    assert run_month(inp, {}).invoices == ()
