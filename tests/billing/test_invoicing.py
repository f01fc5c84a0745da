"""DESIGN §4 rows on the monthly invoice: started periods, bundles and overage, sessions and
roaming, lost cards, one-off charges, numbering."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from backend.billing.calendar import Month
from backend.billing.charges import (
    CardRecord,
    OneOffCharge,
    misuse_charges,
    report_lost,
    transfer_charge,
)
from backend.billing.contracts import Contract, give_notice
from backend.billing.errors import BillingError, InvalidTransition
from backend.billing.invoicer import MonthInput, MonthRun, run_month
from backend.billing.invoices import DocumentKind, Invoice, LineKind, describe
from backend.billing.sessions import ChargingSession, Network, SessionTariff

from .factories import CARD_BUNDLE, CARD_PPU, CP_FIXED, active_contract, local, own_session, session


def _run(
    month: str,
    contracts: Sequence[Contract],
    sessions: Sequence[ChargingSession] = (),
    *,
    cards: Sequence[CardRecord] = (CardRecord("card1", "a1", "c1"),),
    charges: Sequence[OneOffCharge] = (),
) -> MonthRun:
    return run_month(
        MonthInput(Month.parse(month), contracts, cards, sessions, charges=charges), {}
    )


def _only(run: MonthRun, kind: DocumentKind = DocumentKind.INVOICE) -> Invoice:
    found = [i for i in run.invoices if i.draft.kind is kind]
    assert len(found) == 1, run.invoices
    return found[0]


def _gross(invoice: Invoice, kind: LineKind) -> list[int]:
    return [line.amount.gross for line in invoice.lines if line.kind is kind]


# Row "start in the middle of a billing period": 1/30 of the monthly fee per day.
@pytest.mark.parametrize(
    ("start", "month", "fee"),
    [
        (date(2025, 1, 16), "2025-01", 667),  # the terms' example: 16 days, 16/30 x €12.50
        (date(2025, 1, 31), "2025-01", 42),  # start on the 31st: one day
        (date(2025, 2, 15), "2025-02", 583),  # February: 14 days
        (date(2024, 2, 15), "2024-02", 625),  # leap year: 15 days
        (date(2025, 2, 1), "2025-02", 1250),  # a whole February is a whole month
        (date(2025, 3, 2), "2025-03", 1250),  # 30 days of 31: capped at the monthly fee
        (date(2025, 1, 16), "2025-02", 1250),  # the month after: the full fee
    ],
)
def test_started_period_costs_one_thirtieth_per_day(start: date, month: str, fee: int) -> None:
    invoice = _only(_run(month, [active_contract(CP_FIXED, start)]))
    # The month's fee (nothing was billed for it in advance), then the next month's in advance
    # (art. 22.1).
    assert _gross(invoice, LineKind.SUBSCRIPTION_FEE) == [fee, 1250]
    assert invoice.issued_on == Month.parse(month).end
    assert invoice.draft.due_on == Month.parse(month).end.replace(day=15)


def test_last_month_after_late_notice_is_one_day() -> None:
    contract = give_notice(active_contract(CP_FIXED, date(2024, 11, 1)), date(2025, 10, 2))
    assert _gross(_only(_run("2025-11", [contract])), LineKind.SUBSCRIPTION_FEE) == [42]
    assert _run("2025-12", [contract]).invoices == ()


def _bundle_sessions() -> list[ChargingSession]:
    return [
        own_session("s1", "2025-01-20 18:00", 120, 30_000),
        own_session("s2", "2025-01-25 09:00", 180, 30_000),
        own_session("s3", "2025-01-28 12:00", 30, 12_000, fast=True),
        session("s4", "2025-01-29 10:00", 60, 10_000),  # roaming: passed on in full
    ]


# Rows "bundle credit pro rata" and "bundle overage on a separate invoice".
def test_bundle_pro_rata_and_overage_invoice() -> None:
    contract = active_contract(CARD_BUNDLE, date(2025, 1, 16))
    run = _run("2025-01", [contract], _bundle_sessions())
    invoice, overage = _only(run), _only(run, DocumentKind.OVERAGE_INVOICE)
    # Fee 16/30 x €19.95 = €10.64; roaming session €0.35 + 10 kWh x €0.59 + 60 min x €0.02.
    assert _gross(invoice, LineKind.SUBSCRIPTION_FEE) == [1064, 1995]  # February in advance
    assert [
        (line.ref, line.amount.gross) for line in invoice.lines if line.kind is LineKind.SESSION
    ] == [("s4", 745)]
    # Bundle 16/30: 53.333 kWh, 320 min, 10.667 kWh fast. Use 60 kWh, 330 min, 12 kWh fast.
    assert [(line.quantity, line.unit, line.amount.gross) for line in overage.lines] == [
        (Decimal("6.667"), "kWh", 233),  # 6.667 kWh x €0.35
        (Decimal("0.167"), "h", 20),  # 10 min x €1.20/h
        (Decimal("1.333"), "kWh", 79),  # 1.333 kWh x €0.59
    ]
    assert [i.number for i in run.invoices] == ["F-2025-000001", "F-2025-000002"]


def test_unused_bundle_is_not_carried_over() -> None:
    contract = active_contract(CARD_BUNDLE, date(2025, 1, 1))
    sessions = [
        own_session("jan", "2025-01-10 10:00", 60, 10_000),
        own_session("feb", "2025-02-10 10:00", 60, 105_000),
    ]
    assert not [
        i
        for i in _run("2025-01", [contract], sessions).invoices
        if i.draft.kind is DocumentKind.OVERAGE_INVOICE
    ]
    overage = _only(_run("2025-02", [contract], sessions), DocumentKind.OVERAGE_INVOICE)
    assert [line.amount.gross for line in overage.lines] == [175]  # 5 kWh x €0.35


@pytest.mark.parametrize(
    ("issued_on", "energy_lines", "skipped"),
    [
        (date(2025, 4, 25), [233, 20, 79], []),  # 3 months after 25 January: still allowed
        (date(2025, 4, 26), [20, 79], ["s2"]),  # one day later: s2's overage may not be billed
        (date(2025, 4, 29), [], ["s2", "s3", "s3"]),  # s3: connected time and fast kWh
    ],
)
def test_overage_only_up_to_three_months_after_use(
    issued_on: date, energy_lines: list[int], skipped: list[str]
) -> None:
    inp = MonthInput(
        Month(2025, 1),
        [active_contract(CARD_BUNDLE, date(2025, 1, 16))],
        [CardRecord("card1", "a1", "c1")],
        _bundle_sessions(),
    )
    run = run_month(inp, {}, issued_on=issued_on)
    overage = [i for i in run.invoices if i.draft.kind is DocumentKind.OVERAGE_INVOICE]
    assert [line.amount.gross for inv in overage for line in inv.lines] == energy_lines
    assert sorted(s.ref for s in run.skipped) == skipped
    assert all("overage older than 3 months" in s.reason for s in run.skipped)


# Row "roaming sessions": start + kWh + minutes, per charge point, billed monthly.
def test_session_spanning_midnight_at_month_end_belongs_to_its_start_month() -> None:
    contract = active_contract(CARD_PPU, date(2025, 1, 1))
    sessions = [
        session("late", "2025-01-31 23:30", 105, 20_000),  # ends 1 Feb 01:15 local
        session("feb", "2025-02-01 00:30", 30, 5_000),  # 31 Jan 23:30 UTC, but February here
        session(
            "cheap",
            "2025-01-12 08:00",
            0,
            7_777,
            tariff=SessionTariff(per_kwh_cents=Decimal("34.5")),
        ),
    ]
    january = _only(_run("2025-01", [contract], sessions))
    # 0.35 + 20 kWh x 0.59 + 105 min x 0.02 = 14.25; 7.777 kWh x 34.5 ct = 268.3 ct.
    assert [(line.ref, line.amount.gross) for line in january.lines] == [
        ("cheap", 268),
        ("late", 1425),
    ]
    january_run = _run("2025-01", [contract], sessions)
    assert january.draft.sessions == ("cheap", "late")
    feb_input = MonthInput(
        Month(2025, 2),
        [contract],
        [CardRecord("card1", "a1", "c1")],
        sessions,
        previous=january_run.invoices,
    )
    february = _only(run_month(feb_input, {}))
    assert [line.ref for line in february.lines] == ["feb"]


def test_late_session_goes_on_the_next_invoice_once() -> None:
    contract = active_contract(CARD_PPU, date(2025, 1, 1))
    cards = [CardRecord("card1", "a1", "c1")]
    on_time = session("jan", "2025-01-10 08:00", 60, 10_000)
    january = run_month(MonthInput(Month(2025, 1), [contract], cards, [on_time]), {})
    # The roaming record of 30 January arrives in February, after January was invoiced.
    late = session("cdr", "2025-01-30 18:00", 60, 10_000)
    feb = MonthInput(Month(2025, 2), [contract], cards, [on_time, late], previous=january.invoices)
    february = run_month(feb, january.numbers)
    (invoice,) = february.invoices
    assert [(line.ref, line.description[:5], line.amount.gross) for line in invoice.lines] == [
        ("cdr", "late:", 745)
    ]
    assert invoice.number == "F-2025-000002"
    march = MonthInput(
        Month(2025, 3),
        [contract],
        cards,
        [on_time, late],
        previous=[*january.invoices, *february.invoices],
    )
    assert run_month(march, february.numbers).invoices == ()  # billed once only


def test_late_own_network_session_adds_only_its_extra_overage() -> None:
    contract = active_contract(CARD_BUNDLE, date(2025, 1, 1))
    cards = [CardRecord("card1", "a1", "c1")]
    on_time = [own_session("j1", "2025-01-10 08:00", 60, 90_000)]  # 90 of 100 kWh
    january = run_month(MonthInput(Month(2025, 1), [contract], cards, on_time), {})
    assert [i.draft.kind for i in january.invoices] == [DocumentKind.INVOICE]
    late = own_session("j0", "2025-01-05 08:00", 60, 25_000)  # earlier, but arrives late
    feb = MonthInput(Month(2025, 2), [contract], cards, [*on_time, late], previous=january.invoices)
    overage = _only(run_month(feb, january.numbers), DocumentKind.OVERAGE_INVOICE)
    # 115 kWh used of 100: the late session adds 15 kWh x €0.35, for usage month January.
    assert [(line.quantity, line.amount.gross) for line in overage.lines] == [
        (Decimal("15.000"), 525)
    ]
    assert (overage.draft.period, overage.draft.sessions) == (Month(2025, 1), ("j0",))
    too_late = run_month(feb, january.numbers, issued_on=date(2025, 4, 6))
    assert [s.ref for s in too_late.skipped] == ["j0"]  # 5 January + 3 months has passed


def test_home_sessions_and_prepaid_sessions_are_not_invoiced() -> None:
    contract = active_contract(CARD_PPU, date(2025, 1, 1))
    home = session("home", "2025-01-05 20:00", 60, 9_000, network=Network.HOME)
    assert _run("2025-01", [contract], [home]).invoices == ()


# Row "lost card": blocked when reported; the customer pays what was charged before; €7.50.
def test_lost_card_block_and_replacement_fee() -> None:
    contract = active_contract(CARD_PPU, date(2025, 1, 1))
    card, fee = report_lost(
        CardRecord("card1", "a1", "c1"),
        local("2025-03-10 12:00"),
        order_replacement=True,
        charge_id="lost-1",
    )
    assert fee is not None
    sessions = [
        session("before", "2025-03-10 11:00", 30, 5_000),
        session("at-block", "2025-03-10 12:00", 30, 5_000),
        session("after", "2025-03-11 09:00", 30, 5_000),
    ]
    run = _run("2025-03", [contract], sessions, cards=[card], charges=[fee])
    invoice = _only(run)
    assert [line.ref for line in invoice.lines if line.kind is LineKind.SESSION] == ["before"]
    assert _gross(invoice, LineKind.LOST_CARD_FEE) == [750]
    assert [(s.ref, s.reason) for s in run.skipped] == [
        ("at-block", "started after the card was blocked"),
        ("after", "started after the card was blocked"),
    ]
    with pytest.raises(InvalidTransition, match="already blocked"):
        report_lost(card, local("2025-03-12 09:00"), order_replacement=False, charge_id="x")


def test_one_off_charges_transfer_and_misuse() -> None:
    contract = active_contract(CP_FIXED, date(2025, 1, 1))
    charges = [
        transfer_charge("t1", "a1", date(2025, 6, 16), "c1"),
        *misuse_charges("m1", "a1", date(2025, 6, 3), costs_net=2500, excess_mb=3),
    ]
    invoice = _only(_run("2025-06", [contract], charges=charges))
    assert [(line.kind, line.amount.net, line.amount.gross) for line in invoice.lines] == [
        (LineKind.SUBSCRIPTION_FEE, 1033, 1250),
        (LineKind.SUBSCRIPTION_FEE, 1033, 1250),  # July in advance (art. 22.1)
        (LineKind.MISUSE, 4000, 4840),  # admin at least €40 excl. VAT
        (LineKind.MISUSE, 2500, 3025),  # the costs we made
        (LineKind.MISUSE, 450, 545),  # 3 MB x €1.50 excl. VAT
        (LineKind.TRANSFER_FEE, 3719, 4500),
    ]
    totals = invoice.totals
    assert (totals.net, totals.vat, totals.gross) == (12735, 2675, 15410)
    with pytest.raises(BillingError, match="at least €40"):
        misuse_charges("m2", "a1", date(2025, 6, 3), costs_net=0, admin_net=3999)
    assert "F-2025-000001" in describe(invoice)


def test_unknown_cards_and_conflicting_duplicates() -> None:
    contract = active_contract(CARD_PPU, date(2025, 1, 1))
    stray = session("stray", "2025-01-05 10:00", 30, 1_000, card="nobody")
    assert [s.reason for s in _run("2025-01", [contract], [stray]).skipped] == [
        "unknown card nobody"
    ]
    twice = session("s1", "2025-01-05 10:00", 30, 1_000)
    assert len(_only(_run("2025-01", [contract], [twice, twice])).lines) == 1
    with pytest.raises(BillingError, match="twice with different data"):
        _run("2025-01", [contract], [twice, replace(twice, energy_wh=2_000)])


def test_invoice_date_before_the_month_is_refused() -> None:
    with pytest.raises(BillingError, match="cannot be dated"):
        run_month(MonthInput(Month(2025, 3)), {}, issued_on=date(2025, 2, 28))
