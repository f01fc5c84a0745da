"""DESIGN §4 row "guest usage", and the Blink seed: installation orders and lease drivers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from backend.billing.calendar import Month
from backend.billing.charges import CardRecord
from backend.billing.errors import BillingError, InvalidTransition
from backend.billing.guest_usage import (
    GuestOwner,
    guest_credit_note,
    payout_date,
    validate_guest_tariff,
)
from backend.billing.installation import (
    InstallationOrder,
    OrderState,
    approve,
    record_installation,
    reject,
    schedule_inspection,
    schedule_installation,
)
from backend.billing.invoicer import MonthInput, run_month
from backend.billing.invoices import DocumentKind
from backend.billing.lease import LeaseDriver, monthly_reimbursement, normalize_iban
from backend.billing.money import VatRate
from backend.billing.sessions import ChargingSession, Network, SessionTariff

from .factories import session

MAXIMUM = SessionTariff(Decimal(100), Decimal(50), Decimal(5))
OWNER = GuestOwner(
    "own", frozenset({"cp-o"}), SessionTariff(per_kwh_cents=Decimal(30)), Decimal(22)
)
CARDS = {"own-card": "own", "guest1": "a2"}
GUEST_SESSIONS = [
    session("g1", "2025-04-03 10:00", 60, 10_000, card="guest1", cp="cp-o", network=Network.OWN),
    session("g2", "2025-04-04 10:00", 60, 10_000, card="own-card", cp="cp-o", network=Network.OWN),
    session("g3", "2025-04-05 10:00", 60, 5_000, card="NL-XYZ-1", cp="cp-o", network=Network.OWN),
    session("g4", "2025-05-01 00:10", 60, 5_000, card="guest1", cp="cp-o", network=Network.OWN),
]


def test_guest_tariff_is_capped_by_the_platform_maximum() -> None:
    assert validate_guest_tariff(OWNER.tariff, MAXIMUM) == OWNER.tariff
    with pytest.raises(BillingError, match=r"per_kwh_cents 50\.5 exceeds the platform maximum"):
        validate_guest_tariff(SessionTariff(per_kwh_cents=Decimal("50.5")), MAXIMUM)


@pytest.mark.parametrize(
    ("month", "payout"),
    [
        ("2025-04", date(2025, 6, 16)),  # 15 June 2025 is a Sunday
        ("2025-01", date(2025, 3, 17)),  # 15 March 2025 is a Saturday
        ("2025-11", date(2026, 1, 15)),
    ],
)
def test_payout_one_and_a_half_month_after_the_month_of_use(month: str, payout: date) -> None:
    assert payout_date(Month.parse(month)) == payout


@pytest.mark.parametrize(
    ("vat_registered", "unrecovered", "lines"),
    [
        (False, frozenset(), [("g1", 300, 0), ("g3", 150, 0)]),
        (True, frozenset(), [("g1", 248, 52), ("g3", 124, 26)]),
        # Another MSP did not pay for g3: payout limited to 5 kWh x 22 ct electricity cost.
        (False, frozenset({"g3"}), [("g1", 300, 0), ("g3", 110, 0)]),
    ],
)
def test_monthly_credit_note(
    vat_registered: bool, unrecovered: frozenset[str], lines: list[tuple[str, int, int]]
) -> None:
    owner = replace(OWNER, vat_registered=vat_registered)
    note = guest_credit_note(
        owner,
        GUEST_SESSIONS,
        CARDS,
        Month(2025, 4),
        date(2025, 5, 1),
        unrecovered=unrecovered,
        maximum=MAXIMUM,
    )
    assert note is not None
    assert [(line.ref, line.amount.net, line.amount.vat) for line in note.lines] == lines
    assert note.due_on == date(2025, 6, 16)
    rate = VatRate.STANDARD if vat_registered else VatRate.OUT_OF_SCOPE
    assert {line.amount.rate for line in note.lines} == {rate}


def test_credit_note_in_the_monthly_run_has_its_own_series() -> None:
    cards = [CardRecord(uid, account, f"c-{account}") for uid, account in CARDS.items()]
    inp = MonthInput(Month(2025, 4), cards=cards, sessions=GUEST_SESSIONS, guest_owners=[OWNER])
    run = run_month(inp, {"C-2025": 7})
    (note,) = [i for i in run.invoices if i.draft.kind is DocumentKind.CREDIT_NOTE]
    assert note.number == "C-2025-000008"
    assert run.numbers["C-2025"] == 8
    assert guest_credit_note(OWNER, [], CARDS, Month(2025, 4), date(2025, 5, 1)) is None


# Lease drivers: IBAN (mod 97) and monthly reimbursement once the charge point is active.
@pytest.mark.parametrize(
    ("text", "iban"),
    [
        ("NL91 ABNA 0417 1643 00", "NL91ABNA0417164300"),
        ("nl91abna0417164300", "NL91ABNA0417164300"),
        ("BE68 5390 0754 7034", "BE68539007547034"),
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
    ],
)
def test_valid_ibans(text: str, iban: str) -> None:
    assert normalize_iban(text) == iban


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("NL91ABNA0417164301", "mod 97"),
        ("NL91ABNA041716430", "has 18 characters"),
        ("XX91ABNA0417164300", "not accepted"),
        ("hello", "not an IBAN"),
        ("NL91-ABNA-0417", "not an IBAN"),
        ("", "not an IBAN"),
    ],
)
def test_invalid_ibans_are_refused(text: str, error: str) -> None:
    with pytest.raises(BillingError, match=error):
        normalize_iban(text)


def _home(sid: str, start: str, energy_wh: int) -> ChargingSession:
    return session(sid, start, 300, energy_wh, card="lease1", cp="cp-lease", network=Network.HOME)


def _lease_sessions() -> list[ChargingSession]:
    return [
        _home("l0", "2025-04-09 20:00", 9_000),
        _home("l1", "2025-04-10 20:00", 12_345),
        _home("l2", "2025-04-20 20:00", 7_655),
        session("x", "2025-04-21 20:00", 300, 5_000, card="guest", cp="cp-lease"),
        _home("l3", "2025-05-02 20:00", 5_000),
    ]


def test_home_charging_reimbursed_from_activation() -> None:
    driver = LeaseDriver(
        "d1",
        frozenset({"lease1"}),
        "cp-lease",
        Decimal("28.5"),
        iban="NL91 ABNA 0417 1643 00",
        active_from=date(2025, 4, 10),
    )
    result = monthly_reimbursement(driver, _lease_sessions(), Month(2025, 4))
    assert result is not None
    # 20 kWh (12.345 + 7.655) x 28.5 ct = €5.70; the 9 April session predates activation.
    assert (result.energy_wh, result.cents, result.session_ids) == (20_000, 570, ("l1", "l2"))
    assert result.payable
    assert result.iban == "NL91ABNA0417164300"
    without_iban = monthly_reimbursement(
        replace(driver, iban=None), _lease_sessions(), Month(2025, 4)
    )
    assert without_iban is not None
    assert not without_iban.payable
    assert (
        monthly_reimbursement(replace(driver, active_from=None), _lease_sessions(), Month(2025, 4))
        is None
    )
    run = run_month(
        MonthInput(Month(2025, 4), sessions=_lease_sessions(), lease_drivers=[driver]), {}
    )
    assert run.reimbursements == (result,)
    with pytest.raises(BillingError, match="mod 97"):
        LeaseDriver("d2", frozenset(), "cp", Decimal(1), iban="NL91ABNA0417164301")


# Installation orders.
def _installed(order: InstallationOrder) -> InstallationOrder:
    order = schedule_installation(order, date(2025, 3, 3), date(2025, 3, 10))
    return record_installation(order, date(2025, 3, 10), "test-session-42")


def test_installation_approved() -> None:
    order = _installed(InstallationOrder("o1", "a1", date(2025, 3, 1)))
    assert order.state is OrderState.INSPECTION_ORDERED
    assert order.test_session_id == "test-session-42"
    order = schedule_inspection(order, date(2025, 3, 11), date(2025, 3, 20))
    order = approve(order, date(2025, 3, 20), "cp-lease")
    assert (order.state, order.charge_point_id, order.active_from) == (
        OrderState.APPROVED,
        "cp-lease",
        date(2025, 3, 20),
    )
    assert [r.approved for r in order.reports] == [True]


def test_installation_rejected_then_second_inspection() -> None:
    order = _installed(InstallationOrder("o1", "a1", date(2025, 3, 1)))
    order = schedule_inspection(order, date(2025, 3, 11), date(2025, 3, 20))
    with pytest.raises(BillingError, match="reasons"):
        reject(order, date(2025, 3, 20), ("  ",))
    order = reject(order, date(2025, 3, 20), ("earth resistance too high", "RCD does not trip"))
    assert order.reports[0].reasons == ("earth resistance too high", "RCD does not trip")
    with pytest.raises(InvalidTransition, match="cannot approve when rejected"):
        approve(order, date(2025, 3, 21), "cp-1")
    second = approve(
        schedule_inspection(order, date(2025, 3, 25), date(2025, 4, 2)), date(2025, 4, 2), "cp-1"
    )
    assert [(r.number, r.approved) for r in second.reports] == [(1, False), (2, True)]
    # Or the service partner has to come back first, then a new inspection order follows.
    back = record_installation(
        schedule_installation(order, date(2025, 3, 22), date(2025, 3, 24)),
        date(2025, 3, 24),
        "test-session-43",
    )
    assert back.state is OrderState.INSPECTION_ORDERED


def test_installation_steps_out_of_order_are_refused() -> None:
    order = InstallationOrder("o1", "a1", date(2025, 3, 1))
    with pytest.raises(InvalidTransition, match="cannot approve when ordered"):
        approve(order, date(2025, 3, 2), "cp")
    scheduled = schedule_installation(order, date(2025, 3, 3), date(2025, 3, 10))
    with pytest.raises(BillingError, match="test session"):
        record_installation(scheduled, date(2025, 3, 10), " ")
    with pytest.raises(InvalidTransition, match="before its last step"):
        record_installation(scheduled, date(2025, 3, 2), "t")
    with pytest.raises(BillingError, match="before the day"):
        schedule_installation(order, date(2025, 3, 3), date(2025, 3, 2))
