"""Money rules of issue 19 item 4 in the pure domain, each named after its clause of the terms
(shared/seeds 001, Dutch). Store and API sides: tests/backend/test_clauses.py and
tests/invoicing/test_clauses.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from backend.billing.advance import billed_fees
from backend.billing.calendar import Month
from backend.billing.contracts import Contract
from backend.billing.guest_usage import GuestOwner, GuestSetting, guest_credit_note
from backend.billing.invoicer import MonthInput, run_month
from backend.billing.invoices import LineKind
from backend.billing.money import VatSplit
from backend.billing.outages import Outage, OutageCause
from backend.billing.prorata import month_fraction
from backend.billing.sessions import Network, SessionTariff

from .factories import CP_FIXED, active_contract, local, session

CARDS = {"guest1": "guest"}
ISSUED = date(2025, 5, 1)


def _owner(*settings: tuple[str, bool, int]) -> GuestOwner:
    """An owner whose charge point cp-o had these (from, open, ct/kWh) settings."""
    history = tuple(
        GuestSetting("cp-o", local(at), open_, SessionTariff(per_kwh_cents=Decimal(ct)))
        for at, open_, ct in settings
    )
    return GuestOwner(
        "own",
        frozenset({"cp-o"}),
        SessionTariff(per_kwh_cents=Decimal(999)),
        Decimal(22),
        history=history,
    )


def _credited(owner: GuestOwner, *starts: str) -> list[int]:
    guests = [
        session(f"g{n}", start, 60, 10_000, card="guest1", cp="cp-o", network=Network.OWN)
        for n, start in enumerate(starts)
    ]
    note = guest_credit_note(owner, guests, CARDS, Month(2025, 4), ISSUED)
    return [] if note is None else [line.amount.gross for line in note.lines]


def test_art_28_5_a_tariff_raised_after_the_session_does_not_change_its_credit() -> None:
    """Issue 19: 35 → 70 ct after the session credited €7.00 while the guest paid €3.50."""
    owner = _owner(("2025-03-01 00:00", True, 35), ("2025-04-10 12:00", True, 70))
    assert _credited(owner, "2025-04-09 10:00") == [350]
    assert _credited(owner, "2025-04-10 12:00") == [700]  # from the moment it took effect
    assert _credited(owner, "2025-04-09 10:00", "2025-04-11 10:00") == [350, 700]


def test_art_28_5_closed_to_guests_at_the_start_earns_no_credit() -> None:
    owner = _owner(
        ("2025-03-01 00:00", False, 35),
        ("2025-04-10 12:00", True, 35),
        ("2025-04-20 00:00", False, 35),
    )
    assert _credited(owner, "2025-04-09 10:00", "2025-04-15 10:00", "2025-04-21 10:00") == [350]


def test_art_28_5_before_the_first_setting_the_first_applies() -> None:
    owner = _owner(("2025-04-10 00:00", True, 35))
    assert _credited(owner, "2025-04-02 10:00") == [350]


@given(
    st.lists(
        st.tuples(st.integers(0, 29 * 24), st.booleans(), st.integers(0, 75)),
        min_size=1,
        max_size=6,
    ),
    st.integers(0, 29 * 24 - 1),
)
def test_art_28_5_the_credit_is_the_setting_in_force_at_the_start(
    changes: list[tuple[int, bool, int]],
    start_hour: int,
) -> None:
    """Whatever the history, a session is credited 10 kWh at the latest setting that took
    effect at or before its start (or the first one), and nothing when that one was closed."""
    settings = [
        (f"2025-04-{1 + h // 24:02d} {h % 24:02d}:00", open_, ct) for h, open_, ct in changes
    ]
    start = f"2025-04-{1 + start_hour // 24:02d} {start_hour % 24:02d}:00"
    ordered = sorted(enumerate(settings), key=lambda item: (local(item[1][0]), item[0]))
    in_force = ordered[0][1]
    for _, setting in ordered:
        if local(setting[0]) <= local(start):
            in_force = setting
    expected = [in_force[2] * 10] if in_force[1] and in_force[2] else []
    assert [c for c in _credited(_owner(*settings), start) if c] == expected


def _fee_run(
    month: str, contract: Contract, billed: dict[str, VatSplit], outages: Sequence[Outage] = ()
) -> tuple[list[tuple[str, int]], dict[str, VatSplit]]:
    """One month's run given what earlier runs billed; (ref, gross) of its fee and credit
    lines, and what is billed now (added to `billed`, as the store's lines would be)."""
    inp = MonthInput(Month.parse(month), [contract], fees_billed=billed, outages=outages)
    printed = [line for invoice in run_month(inp, {}).invoices for line in invoice.lines]
    lines = [(line.ref, line.amount.gross) for line in printed]
    fees = [(line.ref, line.amount) for line in printed if line.kind is LineKind.SUBSCRIPTION_FEE]
    return lines, billed_fees([*((ref, amount) for ref, amount in billed.items()), *fees])


def test_art_22_1_fees_are_billed_in_advance_with_a_pro_rata_first_payment() -> None:
    """Start 16 January: the invoice of 1 February bills January pro rata (the first payment,
    22.1 a) and February in advance; the next ones bill one month ahead each."""
    contract = active_contract(CP_FIXED, date(2025, 1, 16))
    january, billed = _fee_run("2025-01", contract, {})
    assert january == [("c1@2025-01", 667), ("c1@2025-02", 1250)]
    february, billed = _fee_run("2025-02", contract, billed)
    assert february == [("c1@2025-03", 1250)]  # February was paid in advance: nothing more
    march, _ = _fee_run("2025-03", contract, billed)
    assert march == [("c1@2025-04", 1250)]


def test_art_22_1_a_termination_after_the_advance_is_credited_on_the_next_invoice() -> None:
    contract = active_contract(CP_FIXED, date(2025, 1, 1))
    _, billed = _fee_run("2025-01", contract, {})  # February in advance: €12.50
    ended = replace(contract, ends_on=date(2025, 2, 11))  # learnt after: 10 days in service
    february, _ = _fee_run("2025-02", ended, billed)
    # 10/30 of €12.50 = €4.17 due, €12.50 paid: €8.33 back; nothing for March.
    assert february == [("c1@2025-02", 417 - 1250)]


def test_art_22_1_and_6_4_an_outage_is_credited_on_the_next_invoice() -> None:
    contract = active_contract(CP_FIXED, date(2025, 1, 1))
    _, billed = _fee_run("2025-01", contract, {})
    start = local("2025-02-10 08:00")
    outage = Outage("o1", "c1", start, start + timedelta(hours=36), OutageCause.OUR_SOFTWARE)
    february, _ = _fee_run("2025-02", contract, billed, [outage])
    assert february == [("c1@2025-03", 1250), ("o1", -63)]  # 1.5 days of €12.50


def _cost(contract: Contract, month: Month) -> int:
    service = contract.service
    assert service is not None
    return CP_FIXED.monthly_fee.times(month_fraction(service, month)).cents


@given(st.integers(1, 28), st.integers(1, 150), st.integers(0, 6))
def test_art_22_1_over_the_months_advances_and_settlements_bill_the_days_in_service(
    start_day: int,
    length: int,
    runs: int,
) -> None:
    """Whatever the start, the end (learnt by the first run after it, so often after its
    month was billed in advance) and the number of runs: what the runs billed is what the
    months run cost, plus the advance for the month after the last run."""
    contract = active_contract(CP_FIXED, date(2025, 1, start_day))
    end = contract.service.start + timedelta(days=length)  # type: ignore[union-attr]
    ended = replace(contract, ends_on=end)
    billed: dict[str, VatSplit] = {}
    total, month = 0, Month(2025, 1)
    for _ in range(runs + 1):
        known = ended if end <= month.end else contract
        lines, billed = _fee_run(str(month), known, billed)
        total += sum(gross for _, gross in lines)
        last, month = (month, known), month.next()
    run_months = [Month(2025, 1).plus(k) for k in range(runs + 1)]
    assert total == sum(_cost(ended, m) for m in run_months) + _cost(last[1], month)
