"""DESIGN §4 rows: minimum term, fixed durations and early stop, notice, cooling-off, transfer."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from backend.billing.contracts import (
    AddOn,
    Contract,
    ContractStatus,
    EndReason,
    accept,
    add_addon,
    addon_end,
    cooling_off_last_day,
    give_notice,
    notice_deadline,
    reject,
)
from backend.billing.errors import BillingError, DeadlinePassed, InvalidTransition
from backend.billing.money import Price
from backend.billing.plans import Plan, PlanForm, PlanKind
from backend.billing.termination import (
    ChangeAnnouncement,
    ChangeKind,
    terminate_early,
    terminate_for_default,
    transfer,
    withdraw,
)

from .factories import CARD_BUNDLE, CP_FIXED, PREPAID, active_contract


# Row "minimum term": 12 months charge point, 1 month card, prepaid indefinite.
@pytest.mark.parametrize(
    ("plan", "start", "term_end", "deadline"),
    [
        (CP_FIXED, date(2024, 11, 1), date(2025, 11, 1), date(2025, 10, 1)),  # the terms' example
        (CP_FIXED, date(2025, 1, 31), date(2026, 1, 31), date(2025, 12, 31)),  # start on the 31st
        (CP_FIXED, date(2024, 2, 29), date(2025, 2, 28), date(2025, 1, 31)),  # leap day, clamped
        (CARD_BUNDLE, date(2025, 1, 31), date(2025, 2, 28), date(2025, 1, 31)),  # February
        (CARD_BUNDLE, date(2024, 1, 31), date(2024, 2, 29), date(2024, 1, 31)),  # leap year
        (CARD_BUNDLE, date(2025, 3, 31), date(2025, 4, 30), date(2025, 3, 31)),
        (PREPAID, date(2025, 3, 5), None, None),
    ],
)
def test_minimum_term_and_notice_deadline(
    plan: Plan, start: date, term_end: date | None, deadline: date | None
) -> None:
    contract = active_contract(plan, start)
    assert contract.minimum_term_end == term_end
    assert notice_deadline(contract) == deadline


@pytest.mark.parametrize(
    ("years", "term_end"), [(1, date(2026, 3, 1)), (2, date(2027, 3, 1)), (3, date(2028, 3, 1))]
)
def test_fixed_durations_of_one_two_three_years(years: int, term_end: date) -> None:
    plan = replace(CP_FIXED, code=f"cp-{years}y", duration_years=years)
    assert active_contract(plan, date(2025, 3, 1)).minimum_term_end == term_end


def test_only_offered_durations() -> None:
    with pytest.raises(BillingError, match="durations"):
        replace(CP_FIXED, duration_years=4)
    with pytest.raises(BillingError, match="durations"):
        replace(CARD_BUNDLE, duration_years=2)


# Row "notice": 1 month before the end of the minimum term; after that monthly.
@pytest.mark.parametrize(
    ("notice_on", "ends_on"),
    [
        (date(2025, 3, 1), date(2025, 11, 1)),  # early notice: still the minimum term
        (date(2025, 10, 1), date(2025, 11, 1)),  # on the deadline day
        (date(2025, 10, 2), date(2025, 11, 2)),  # one day late: one more day, month-to-month
        (date(2026, 1, 31), date(2026, 2, 28)),  # later: notice + 1 month, clamped
    ],
)
def test_notice_on_and_after_the_deadline(notice_on: date, ends_on: date) -> None:
    contract = give_notice(active_contract(CP_FIXED, date(2024, 11, 1)), notice_on)
    assert contract.ends_on == ends_on
    assert contract.end_reason is EndReason.NOTICE
    assert contract.status_on(notice_on) is ContractStatus.NOTICE_GIVEN
    assert contract.status_on(ends_on) is ContractStatus.ENDED
    assert contract.status_on(ends_on - timedelta(days=1)) is ContractStatus.NOTICE_GIVEN


def test_notice_twice_or_before_events_is_refused() -> None:
    contract = give_notice(active_contract(CP_FIXED, date(2024, 11, 1)), date(2025, 10, 1))
    with pytest.raises(InvalidTransition, match="notice_given"):
        give_notice(contract, date(2025, 10, 5))
    with pytest.raises(InvalidTransition, match="before its last event"):
        give_notice(active_contract(CP_FIXED, date(2024, 11, 1)), date(2024, 10, 1))


def test_prepaid_can_always_be_ended_at_once() -> None:
    assert give_notice(active_contract(PREPAID, date(2025, 1, 1)), date(2025, 1, 9)).ends_on == (
        date(2025, 1, 9)
    )


def test_addon_extends_the_base_term_and_ends_with_it() -> None:
    contract = active_contract(CP_FIXED, date(2025, 1, 1))
    addon = AddOn("smart-charging", date(2026, 7, 1))
    extended = add_addon(contract, addon, date(2025, 2, 1))
    assert extended.minimum_term_end == date(2026, 7, 1)
    assert notice_deadline(extended) == date(2026, 6, 1)
    ended = give_notice(extended, date(2025, 3, 1))
    assert ended.ends_on == date(2026, 7, 1)
    short = add_addon(contract, AddOn("x", date(2025, 6, 1)), date(2025, 2, 1))
    assert short.minimum_term_end == date(2026, 1, 1)  # never shortened
    assert addon_end(replace(contract, ends_on=date(2025, 4, 1)), addon) == date(2025, 4, 1)


# Row "fixed durations": no early stop except the listed reasons.
@pytest.mark.parametrize(
    "reason",
    [EndReason.SERIOUS_NON_PERFORMANCE, EndReason.MOVED_TO_UNSERVED_AREA, EndReason.DEATH],
)
def test_early_stop_for_a_listed_reason(reason: EndReason) -> None:
    contract = active_contract(CP_FIXED, date(2025, 1, 1))
    ended = terminate_early(contract, reason, date(2025, 4, 10))
    assert ended.ends_on == date(2025, 4, 10)
    assert ended.end_reason is reason


@pytest.mark.parametrize("reason", [EndReason.NOTICE, EndReason.TRANSFER, EndReason.WITHDRAWAL])
def test_early_stop_for_another_reason_is_refused(reason: EndReason) -> None:
    with pytest.raises(BillingError, match=r"art\. 13\.2"):
        terminate_early(active_contract(CP_FIXED, date(2025, 1, 1)), reason, date(2025, 4, 10))


def test_death_may_be_dated_back_other_reasons_not() -> None:
    contract = active_contract(CP_FIXED, date(2025, 1, 1))
    ended = terminate_early(contract, EndReason.DEATH, date(2025, 4, 10), end_on=date(2025, 4, 2))
    assert ended.ends_on == date(2025, 4, 2)
    with pytest.raises(BillingError, match="lies before"):
        terminate_early(
            contract, EndReason.MOVED_TO_UNSERVED_AREA, date(2025, 4, 10), end_on=date(2025, 4, 2)
        )


@pytest.mark.parametrize(
    ("kind", "received", "outcome"),
    [
        (ChangeKind.PRICE_INCREASE, date(2025, 5, 31), date(2025, 6, 1)),  # day before: free
        (ChangeKind.PRICE_INCREASE, date(2025, 6, 1), "must arrive before"),  # on the day: late
        (ChangeKind.DETRIMENTAL_TERMS, date(2025, 5, 2), date(2025, 6, 1)),
        (ChangeKind.AGREED_INDEXATION, date(2025, 5, 2), "no right to cancel"),
        (ChangeKind.LEGALLY_REQUIRED, date(2025, 5, 2), "no right to cancel"),
        (ChangeKind.IN_CUSTOMER_FAVOUR, date(2025, 5, 2), "no right to cancel"),
        (ChangeKind.REFUSABLE, date(2025, 5, 2), "no right to cancel"),
    ],
)
def test_free_cancellation_before_a_unilateral_change(
    kind: ChangeKind, received: date, outcome: date | str
) -> None:
    contract = active_contract(CP_FIXED, date(2025, 1, 1))
    change = ChangeAnnouncement(date(2025, 5, 1), date(2025, 6, 1), kind)
    if isinstance(outcome, date):
        ended = terminate_early(contract, EndReason.UNILATERAL_CHANGE, received, change=change)
        assert ended.ends_on == outcome
    else:
        with pytest.raises(BillingError, match=outcome):
            terminate_early(contract, EndReason.UNILATERAL_CHANGE, received, change=change)


def test_a_change_must_be_announced_a_month_ahead() -> None:
    with pytest.raises(BillingError, match="one month ahead"):
        ChangeAnnouncement(date(2025, 5, 2), date(2025, 6, 1), ChangeKind.PRICE_INCREASE)


def test_ended_for_default_pays_the_rest_of_the_minimum_term() -> None:
    contract = active_contract(CP_FIXED, date(2025, 1, 1))
    ended, rest = terminate_for_default(contract, date(2025, 10, 16))
    # 16-31 Oct (16 days) + Nov + Dec: (16/30 + 2) x €12.50 = €31.67
    assert ended.ends_on == date(2025, 10, 16)
    assert rest == Price.gross(3167)


# Row "cooling-off": 14 days; a charge-point plan starts after it unless asked otherwise.
def _applied(plan: Plan, **kw: object) -> Contract:
    return Contract("c1", "a1", plan, applied_on=date(2025, 3, 1), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("plan", "kw", "starts_on"),
    [
        (CP_FIXED, {}, date(2025, 3, 18)),  # accepted 3 March, cooling-off to 17 March
        (CP_FIXED, {"immediate_start": True}, date(2025, 3, 3)),
        (CP_FIXED, {"requested_start": date(2025, 4, 1)}, date(2025, 4, 1)),
        (CP_FIXED, {"distance_sale": False}, date(2025, 3, 3)),
        (CP_FIXED, {"is_consumer": False}, date(2025, 3, 3)),
        (CARD_BUNDLE, {}, date(2025, 3, 1)),  # card plans start on application (art. 4)
    ],
)
def test_start_date_after_cooling_off(plan: Plan, kw: dict[str, object], starts_on: date) -> None:
    contract = accept(_applied(plan, **kw), date(2025, 3, 3))
    assert contract.starts_on == starts_on
    expected = ContractStatus.ACTIVE if starts_on <= date(2025, 3, 3) else ContractStatus.ACCEPTED
    assert contract.status_on(date(2025, 3, 3)) is expected
    assert contract.status_on(max(starts_on, date(2025, 3, 3))) is ContractStatus.ACTIVE


def test_cooling_off_runs_from_the_goods_for_a_card_with_product() -> None:
    contract = accept(_applied(CARD_BUNDLE, goods_received_on=date(2025, 3, 10)), date(2025, 3, 3))
    assert cooling_off_last_day(contract) == date(2025, 3, 24)


@pytest.mark.parametrize(
    ("withdrawn_on", "used_days", "charge", "refund_by"),
    [
        (date(2025, 3, 3), 0, 0, date(2025, 3, 17)),  # on the day it started
        (date(2025, 3, 13), 10, 417, date(2025, 3, 27)),  # 10 days x 1/30 x €12.50 = €4.17
        (date(2025, 3, 17), 14, 583, date(2025, 3, 31)),  # the last day of the period
    ],
)
def test_withdrawal_pays_pro_rata_use(
    withdrawn_on: date, used_days: int, charge: int, refund_by: date
) -> None:
    contract = accept(_applied(CP_FIXED, immediate_start=True), date(2025, 3, 3))
    result = withdraw(contract, withdrawn_on)
    assert (result.used_days, result.charge.cents, result.refund_due_by) == (
        used_days,
        charge,
        refund_by,
    )
    assert result.contract.status_on(withdrawn_on) is ContractStatus.WITHDRAWN


def test_withdrawal_after_the_period_or_without_the_right_is_refused() -> None:
    contract = accept(_applied(CP_FIXED, immediate_start=True), date(2025, 3, 3))
    with pytest.raises(DeadlinePassed, match="2025-03-17"):
        withdraw(contract, date(2025, 3, 18))
    business = accept(_applied(CP_FIXED, is_consumer=False), date(2025, 3, 3))
    with pytest.raises(InvalidTransition, match="no right of withdrawal"):
        withdraw(business, date(2025, 3, 4))


def test_withdrawing_an_application_costs_nothing() -> None:
    result = withdraw(_applied(CP_FIXED), date(2025, 3, 2))
    assert result.charge.cents == 0
    assert result.used_days == 0


def test_rejected_application_cannot_be_accepted() -> None:
    rejected = reject(_applied(CP_FIXED), date(2025, 3, 2))
    assert rejected.status_on(date(2025, 3, 2)) is ContractStatus.REJECTED
    with pytest.raises(InvalidTransition, match="rejected"):
        accept(rejected, date(2025, 3, 3))


# Row "contract transfer on moving": €45.
def test_transfer_on_moving_costs_45_and_keeps_the_term() -> None:
    contract = active_contract(CP_FIXED, date(2025, 1, 1))
    result = transfer(contract, date(2025, 6, 16), new_contract_id="c2", new_account_id="a2")
    assert result.fee == Price.gross(4500)
    assert result.old.ends_on == date(2025, 6, 16)
    assert result.old.end_reason is EndReason.TRANSFER
    assert (result.new.account_id, result.new.starts_on, result.new.minimum_term_end) == (
        "a2",
        date(2025, 6, 16),
        date(2026, 1, 1),
    )
    assert cooling_off_last_day(result.new) is None
    with pytest.raises(BillingError, match="another account"):
        transfer(contract, date(2025, 6, 16), new_contract_id="c3", new_account_id="a1")


def test_plan_validation() -> None:
    with pytest.raises(BillingError, match="flexible plan has no fixed"):
        Plan("x", "x", PlanKind.CHARGE_POINT, PlanForm.FLEXIBLE, Price.gross(100))
    with pytest.raises(BillingError, match="needs a monthly fee"):
        Plan("x", "x", PlanKind.CHARGE_POINT, PlanForm.FIXED)
