"""DESIGN §4 rows: plan switches, the €6.25 idle fee, outage compensation, CPI indexation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from backend.billing.calendar import Month, Period
from backend.billing.charges import CardRecord
from backend.billing.contracts import Contract, EndReason, give_notice
from backend.billing.errors import BillingError, InvalidTransition
from backend.billing.idle_fee import Dormancy, dormancies, idle_fee_fraction
from backend.billing.indexation import Indexation, applies_to, indexed_price
from backend.billing.invoicer import MonthInput, run_month
from backend.billing.invoices import LineKind
from backend.billing.money import Price
from backend.billing.outages import Outage, OutageCause, compensated_days
from backend.billing.sessions import ChargingSession, Network
from backend.billing.switches import PlanSwitch, plan_on, request_switch
from backend.billing.termination import terminate_early

from .factories import CARD_BUNDLE, CP_FIXED, CP_FLEX, active_contract, local, session


def _lines(
    month: str,
    contract: Contract,
    *,
    sessions: Sequence[ChargingSession] = (),
    switches: Sequence[PlanSwitch] = (),
    outages: Sequence[Outage] = (),
) -> list[tuple[LineKind, int]]:
    """The month's own lines. Its invoice also bills the next month's fee in advance
    (art. 22.1, ref `<contract>@<next month>`): left out here, tests/billing/test_clauses.py
    checks it; with nothing billed in advance before, the month's fee is its settlement."""
    cards = [CardRecord("card1", "a1", "c1")]
    inp = MonthInput(Month.parse(month), [contract], cards, sessions, switches, outages=outages)
    run = run_month(inp, {})
    ahead = f"@{Month.parse(month).next()}"
    return [
        (line.kind, line.amount.gross)
        for inv in run.invoices
        for line in inv.lines
        if not line.ref.endswith(ahead)
    ]


def _weekly_home_sessions(first: date, weeks: int) -> list[ChargingSession]:
    days = [first + timedelta(days=7 * w + k) for w in range(weeks) for k in (0, 3)]
    return [
        session(f"h{d}", f"{d} 19:00", 120, 8_000, cp="cp-home", network=Network.HOME) for d in days
    ]


# Row "switching plan form": monthly during the minimum term, €7.50 incl. VAT.
def test_switch_fixed_to_flexible_and_back() -> None:
    contract = active_contract(CP_FIXED, date(2025, 1, 1), charge_point_id="cp-home")
    first = request_switch(contract, [], CP_FLEX, date(2025, 3, 10))
    assert first.effective_on == date(2025, 4, 1)
    assert first.fee == Price.gross(750)
    with pytest.raises(InvalidTransition, match="one switch per month"):
        request_switch(contract, [first], CARD_BUNDLE, date(2025, 3, 31))  # twice in a month
    with pytest.raises(InvalidTransition, match="already on plan"):
        request_switch(contract, [first], CP_FLEX, date(2025, 4, 2))
    back = request_switch(contract, [first], CP_FIXED, date(2025, 4, 2))
    switches = [first, back]
    assert [
        plan_on(contract, switches, d).code
        for d in (date(2025, 3, 31), date(2025, 4, 1), date(2025, 5, 1))
    ] == [
        "cp-fixed",
        "cp-flex",
        "cp-fixed",
    ]
    home = _weekly_home_sessions(date(2025, 1, 6), 22)  # regular charging: no idle fee
    assert _lines("2025-03", contract, sessions=home, switches=switches) == [
        (LineKind.SUBSCRIPTION_FEE, 1250),
        (LineKind.PLAN_SWITCH_FEE, 750),
    ]
    assert _lines("2025-04", contract, sessions=home, switches=switches) == [
        (LineKind.PLAN_SWITCH_FEE, 750),  # April on the flexible plan: no fixed fee
    ]
    assert _lines("2025-05", contract, sessions=home, switches=switches) == [
        (LineKind.SUBSCRIPTION_FEE, 1250),
    ]


def test_switch_of_an_ended_contract_is_refused() -> None:
    contract = give_notice(active_contract(CARD_BUNDLE, date(2025, 1, 1)), date(2025, 1, 5))
    with pytest.raises(InvalidTransition, match=r"notice_given|ends before"):
        request_switch(contract, [], CP_FLEX, date(2025, 1, 20))
    with pytest.raises(InvalidTransition, match="cannot switch a card plan"):
        request_switch(
            active_contract(CARD_BUNDLE, date(2025, 1, 1)), [], CP_FLEX, date(2025, 1, 20)
        )


# Row "plan without monthly fee, no kWh for > 30 days": €6.25 with the 4-week exception.
MON_THU_FROM_3_MARCH = [
    date(2025, 3, 3) + timedelta(days=7 * w + k) for w in range(4) for k in (0, 3)
]
MON_THU_FROM_17_MARCH = [
    date(2025, 3, 17) + timedelta(days=7 * w + k) for w in range(4) for k in (0, 3)
]
SERVICE = Period(date(2025, 1, 1), date(9999, 1, 1))


@pytest.mark.parametrize(
    ("days", "fees"),
    [
        ([], {"2025-01": 0, "2025-02": 625, "2025-03": 625}),  # dormant from 31 January
        ([date(2025, 1, 10)], {"2025-02": 0, "2025-03": 625}),  # dormant from 10 February
        ([date(2025, 1, 10), date(2025, 2, 8)], {"2025-02": 0, "2025-03": 0, "2025-04": 625}),
        # One charge during dormancy changes nothing:
        ([date(2025, 3, 12)], {"2025-03": 625, "2025-04": 625}),
        # Exception completed in March (window 28 Feb-27 March): March waived, April normal,
        # dormant again from 27 April (the 31st idle day after 27 March), so May is charged.
        (MON_THU_FROM_3_MARCH, {"2025-03": 0, "2025-04": 0, "2025-05": 625}),
        # Exception completed only on 13 April: March still charged, April waived.
        (MON_THU_FROM_17_MARCH, {"2025-03": 625, "2025-04": 0}),
    ],
)
def test_idle_fee(days: list[date], fees: dict[str, int]) -> None:
    for month, fee in fees.items():
        assert (
            Price.gross(625).times(idle_fee_fraction(SERVICE, days, Month.parse(month))).cents
            == fee
        ), month


def test_dormancy_spells() -> None:
    assert dormancies(date(2025, 1, 1), MON_THU_FROM_3_MARCH, date(2025, 6, 30)) == [
        Dormancy(date(2025, 1, 31), date(2025, 3, 27)),
        Dormancy(date(2025, 4, 27), None),
    ]


def test_idle_fee_on_the_invoice_and_pro_rata_in_the_last_month() -> None:
    contract = active_contract(CP_FLEX, date(2025, 1, 1), charge_point_id="cp-home")
    assert _lines("2025-02", contract) == [(LineKind.IDLE_FEE, 625)]
    # Moved away, ends 16 April: 15 days of April at 1/30 of €6.25 = €3.125 → €3.13.
    ended = terminate_early(contract, EndReason.MOVED_TO_UNSERVED_AREA, date(2025, 4, 16))
    assert _lines("2025-04", ended) == [(LineKind.IDLE_FEE, 313)]
    home = _weekly_home_sessions(date(2025, 1, 6), 12)
    assert _lines("2025-02", contract, sessions=home) == []
    assert _lines("2025-02", active_contract(CP_FIXED, date(2025, 1, 1))) == [
        (LineKind.SUBSCRIPTION_FEE, 1250)  # a plan with a fixed fee never pays the idle fee
    ]


# Art. 6.4 "naar rato teruggerekend met een minimum van 1 dag": > 12 h through our software →
# the fee pro rata by the (started) hour, minimum one day; 36 h is 1.5 days, not 2.
@pytest.mark.parametrize(
    ("hours", "cause", "days", "credit"),
    [
        (12, OutageCause.OUR_SOFTWARE, 0, 0),  # exactly 12 h: not more than 12 h
        (12.02, OutageCause.OUR_SOFTWARE, 1, 42),  # minimum one day: 1/30 x €12.50
        (30, OutageCause.OUR_SOFTWARE, Fraction(5, 4), 52),  # 1.25 days x €12.50 / 30
        (36, OutageCause.OUR_SOFTWARE, Fraction(3, 2), 63),  # 1.5 days: 62.5 ct, half up
        (35.5, OutageCause.OUR_SOFTWARE, Fraction(3, 2), 63),  # a started hour counts whole
        (72, OutageCause.OUR_SOFTWARE, 3, 125),
        (48, OutageCause.CHARGER_HARDWARE, 0, 0),
        (48, OutageCause.CUSTOMER, 0, 0),
    ],
)
def test_outage_compensation_art_6_4_pro_rata_by_the_hour(
    hours: float, cause: OutageCause, days: Fraction | int, credit: int
) -> None:
    start = local("2025-05-30 20:00")
    outage = Outage("o1", "c1", start, start + timedelta(hours=hours), cause)
    assert compensated_days(outage) == days
    contract = active_contract(CP_FIXED, date(2025, 1, 1))
    month = outage.month  # the month in which the outage ended
    expected = [(LineKind.SUBSCRIPTION_FEE, 1250)] + (
        [(LineKind.OUTAGE_CREDIT, -credit)] if credit else []
    )
    assert _lines(str(month), contract, outages=[outage]) == expected


def test_no_compensation_without_a_fixed_fee_and_bad_outages_refused() -> None:
    start = local("2025-05-10 08:00")
    outage = Outage("o1", "c1", start, start + timedelta(hours=40), OutageCause.OUR_SOFTWARE)
    flex = active_contract(CP_FLEX, date(2025, 5, 1), charge_point_id="cp-home")
    assert _lines("2025-05", flex, outages=[outage]) == []
    with pytest.raises(BillingError, match="ends before"):
        Outage("o2", "c1", start, start, OutageCause.OUR_SOFTWARE)


# Row "indexation": yearly CPI, only for customers of more than 3 months, ≥ 1 month ahead.
@pytest.mark.parametrize(
    ("since", "announced", "applies", "effective"),
    [
        (date(2024, 12, 31), date(2025, 2, 15), True, date(2025, 4, 1)),
        (date(2025, 1, 1), date(2025, 2, 15), False, date(2025, 4, 1)),  # exactly 3 months
        (date(2025, 1, 1), date(2025, 3, 2), True, date(2025, 4, 2)),  # late announcement
    ],
)
def test_indexation(since: date, announced: date, applies: bool, effective: date) -> None:
    index = Indexation(Decimal("3.1"), date(2025, 4, 1), announced)
    assert index.effective_on == effective
    assert applies_to(index, since) is applies
    price = indexed_price(Price.gross(1250), index, since)
    assert price == (Price.gross(1289) if applies else Price.gross(1250))  # 12.8875 → 12.89
    assert indexed_price(
        Price.net(4000), Indexation(Decimal("-0.4"), date(2025, 4, 1), date(2025, 1, 1)), since
    ) == (
        Price.net(3984)
        if applies_to(Indexation(Decimal(0), date(2025, 4, 1), date(2025, 1, 1)), since)
        else Price.net(4000)
    )
    with pytest.raises(BillingError):
        Indexation(3.1, date(2025, 4, 1), announced)  # type: ignore[arg-type]


def test_plan_switch_dataclass_keeps_fee() -> None:
    switch = PlanSwitch("c1", date(2025, 3, 1), CP_FLEX, date(2025, 4, 1))
    assert switch.fee.cents == 750


INDEX_2025 = Indexation(Decimal("3.1"), date(2025, 1, 1), date(2024, 11, 15))
INDEX_2026 = Indexation(Decimal(2), date(2026, 1, 1), date(2025, 11, 14))
LATE_INDEX = Indexation(Decimal("3.1"), date(2025, 1, 1), date(2024, 12, 10))  # from 10 Jan


@pytest.mark.parametrize(
    ("since", "month", "indexations", "fee"),
    [
        (date(2024, 6, 1), "2024-12", [INDEX_2025], 1250),
        (date(2024, 6, 1), "2025-01", [INDEX_2025], 1289),  # €12.50 + 3.1 %
        (date(2024, 11, 1), "2025-01", [INDEX_2025], 1250),  # 2 months a customer: not indexed
        (date(2024, 11, 1), "2025-06", [INDEX_2025], 1250),  # ... until next year's indexation
        (date(2024, 11, 1), "2026-01", [INDEX_2025, INDEX_2026], 1275),  # only 2026's: +2 %
        (date(2024, 6, 1), "2026-01", [INDEX_2025, INDEX_2026], 1315),  # compounding, rounded
        (date(2024, 6, 1), "2025-01", [LATE_INDEX], 1250),  # effective mid-month: from February
        (date(2024, 6, 1), "2025-02", [LATE_INDEX], 1289),
    ],
)
def test_indexation_on_the_invoice(
    since: date, month: str, indexations: list[Indexation], fee: int
) -> None:
    contract = active_contract(CP_FIXED, since)
    inp = MonthInput(Month.parse(month), [contract], indexations=indexations)
    (invoice,) = run_month(inp, {}).invoices
    # The month's own fee (its next month's, in advance, follows: art. 22.1).
    assert [line.amount.gross for line in invoice.lines if line.ref == f"c1@{month}"] == [fee]
