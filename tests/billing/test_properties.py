"""Hypothesis properties of the money rules: totals are sums of lines, a month re-run changes
nothing (whatever the input order), pro rata over a whole period is the monthly fee, numbers
have no gaps, and a month's idle fee never depends on later data."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction
from random import Random

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.billing.calendar import Month, Period, add_months
from backend.billing.charges import CardRecord, OneOffCharge
from backend.billing.idle_fee import idle_fee_fraction
from backend.billing.invoicer import MonthInput, run_month
from backend.billing.invoices import LineKind
from backend.billing.money import Price
from backend.billing.plans import Plan, PlanForm, PlanKind
from backend.billing.prorata import month_fraction, period_fraction
from backend.billing.sessions import ChargingSession, Network

from .factories import (
    CARD_BUNDLE,
    CARD_PPU,
    CP_FIXED,
    CP_FLEX,
    OWN_TARIFF,
    ROAMING_TARIFF,
    active_contract,
    local,
)

MONTH = Month(2025, 3)
months = st.builds(Month, st.integers(2020, 2030), st.integers(1, 12))
fees = st.integers(min_value=1, max_value=100_000)


@st.composite
def month_inputs(draw: st.DrawFn) -> MonthInput:
    plans = [CP_FIXED, CP_FLEX, CARD_BUNDLE, CARD_PPU]
    contracts, cards = [], []
    for n in range(draw(st.integers(1, 4))):
        start = date(2025, 1, 1) + timedelta(days=draw(st.integers(0, 89)))
        plan = draw(st.sampled_from(plans))
        contracts.append(
            active_contract(plan, start, cid=f"c{n}", account=f"a{n % 3}", charge_point_id=f"cp{n}")
        )
        cards.append(CardRecord(f"card{n}", f"a{n % 3}", f"c{n}"))
    sessions = []
    for n in range(draw(st.integers(0, 12))):
        card = draw(st.sampled_from(cards))
        network = draw(st.sampled_from(list(Network)))
        start = local("2025-03-01 00:00") + timedelta(minutes=draw(st.integers(0, 31 * 1440)))
        sessions.append(
            ChargingSession(
                f"s{n}",
                card.uid,
                draw(st.sampled_from(["cp0", "cp1", "public"])),
                start,
                start + timedelta(minutes=draw(st.integers(0, 900))),
                draw(st.integers(0, 80_000)),
                network,
                ROAMING_TARIFF if network is Network.ROAMING else OWN_TARIFF,
                draw(st.booleans()),
            )
        )
    charges = [
        OneOffCharge(
            f"x{n}",
            f"a{n % 3}",
            date(2025, 3, draw(st.integers(1, 31))),
            LineKind.OTHER,
            "extra",
            draw(st.sampled_from([Price.gross, Price.net]))(draw(st.integers(-5_000, 50_000))),
        )
        for n in range(draw(st.integers(0, 3)))
    ]
    return MonthInput(MONTH, contracts, cards, sessions, charges=charges)


@settings(max_examples=60, deadline=None)
@given(month_inputs())
def test_invoice_totals_are_the_sums_of_their_lines(inp: MonthInput) -> None:
    for invoice in run_month(inp, {}).invoices:
        totals = invoice.totals
        assert totals.net == sum(line.amount.net for line in invoice.lines)
        assert totals.vat == sum(line.amount.vat for line in invoice.lines)
        assert totals.gross == sum(line.amount.gross for line in invoice.lines)
        assert totals.net + totals.vat == totals.gross
        assert sum(net for _, net, _ in totals.vat_by_rate) == totals.net
        assert sum(vat for _, _, vat in totals.vat_by_rate) == totals.vat


@settings(max_examples=60, deadline=None)
@given(month_inputs(), st.randoms(use_true_random=False))
def test_re_running_a_month_changes_nothing(inp: MonthInput, rnd: Random) -> None:
    first = run_month(inp, {"F-2025": 41})
    assert run_month(inp, {"F-2025": 41}) == first
    shuffled = MonthInput(
        inp.month,
        rnd.sample(list(inp.contracts), len(inp.contracts)),
        rnd.sample(list(inp.cards), len(inp.cards)),
        rnd.sample(list(inp.sessions), len(inp.sessions)),
        charges=list(reversed(inp.charges)),
    )
    assert run_month(shuffled, {"F-2025": 41}) == first
    # With its own output as history the run issues nothing new and takes no number.
    again = run_month(replace(inp, previous=first.invoices), first.numbers)
    assert again.invoices == ()
    assert dict(again.numbers) == dict(first.numbers)


@settings(max_examples=60, deadline=None)
@given(month_inputs())
def test_numbers_have_no_gaps(inp: MonthInput) -> None:
    run = run_month(inp, {"F-2025": 9})
    numbers = [int(i.number.rsplit("-", 1)[1]) for i in run.invoices if i.number.startswith("F")]
    assert numbers == list(range(10, 10 + len(numbers)))
    assert run.numbers.get("F-2025", 9) == 9 + len(numbers)


@given(months, fees)
def test_pro_rata_over_a_whole_month_is_the_monthly_fee(month: Month, fee: int) -> None:
    plan = Plan("p", "p", PlanKind.CHARGE_POINT, PlanForm.FIXED, Price.gross(fee))
    contract = active_contract(plan, month.first)
    inp = MonthInput(month, [contract])
    (invoice,) = run_month(inp, {}, issued_on=month.end).invoices
    # The whole month, then the whole next month in advance (art. 22.1).
    assert [line.amount.gross for line in invoice.lines] == [fee, fee]


@given(months, st.integers(1, 36))
def test_pro_rata_over_whole_months_counts_months(month: Month, count: int) -> None:
    assert period_fraction(Period(month.first, add_months(month.first, count))) == count


@given(months, st.integers(0, 30), st.integers(1, 31))
def test_started_month_is_one_thirtieth_per_day_capped(month: Month, skip: int, days: int) -> None:
    start = month.first + timedelta(days=min(skip, month.days - 1))
    service = Period(start, min(start + timedelta(days=days), month.end))
    fraction = month_fraction(service, month)
    if service.days == month.days:
        assert fraction == 1
    else:
        assert fraction == min(Fraction(service.days, 30), Fraction(1))


@settings(max_examples=80)
@given(
    st.lists(st.integers(0, 200), max_size=40),
    st.lists(st.integers(0, 120), max_size=20),
    st.integers(1, 6),
)
def test_idle_fee_of_a_month_ignores_later_charging(
    early: list[int], late: list[int], month_index: int
) -> None:
    first = date(2025, 1, 1)
    service = Period(first, date(9999, 1, 1))
    month = Month(2025, 1).plus(month_index)
    days = [first + timedelta(days=d) for d in early]
    later = [month.end + timedelta(days=d) for d in late]
    assert idle_fee_fraction(service, days, month) == idle_fee_fraction(
        service, [*days, *later], month
    )
    assert idle_fee_fraction(service, days, month) in {0, 1}
