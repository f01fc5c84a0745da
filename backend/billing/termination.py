"""Ending a contract before its minimum term, withdrawal and transfer (art. 3.5, 12, 13, 29).

Early cancellation by the customer is allowed only for the reasons of art. 13.2; a unilateral
change of ours allows a free cancellation up to the day before it takes effect, except for the
changes listed in art. 13.3.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from .calendar import Period, add_months
from .contracts import (
    Contract,
    ContractStatus,
    EndReason,
    cooling_off_last_day,
    require_step,
)
from .errors import BillingError, DeadlinePassed, InvalidTransition
from .money import Price
from .plans import TRANSFER_FEE
from .prorata import period_fraction

REFUND_DAYS_AFTER_WITHDRAWAL = 14  # art. 29.2

_RUNNING = {ContractStatus.ACCEPTED, ContractStatus.ACTIVE, ContractStatus.NOTICE_GIVEN}


class ChangeKind(StrEnum):
    PRICE_INCREASE = "price_increase"
    DETRIMENTAL_TERMS = "detrimental_terms"  # other changes with consequences for the customer
    AGREED_INDEXATION = "agreed_indexation"  # e.g. the yearly CPI indexation (art. 9.1)
    LEGALLY_REQUIRED = "legally_required"
    IN_CUSTOMER_FAVOUR = "in_customer_favour"  # or without consequences for the customer
    REFUSABLE = "refusable"  # the customer can refuse the change itself

    @property
    def allows_free_cancellation(self) -> bool:
        """Art. 13.3: the listed exceptions give no right to cancel."""
        return self in {ChangeKind.PRICE_INCREASE, ChangeKind.DETRIMENTAL_TERMS}


@dataclass(frozen=True, slots=True)
class ChangeAnnouncement:
    """A change of contract or tariffs by us, announced at least one month ahead (art. 12.1)."""

    announced_on: date
    effective_on: date
    kind: ChangeKind

    def __post_init__(self) -> None:
        earliest = add_months(self.announced_on, 1)
        if self.effective_on < earliest:
            raise BillingError(
                f"a change announced on {self.announced_on} takes effect on {earliest} at the "
                f"earliest (art. 12.1: one month ahead), not {self.effective_on}"
            )


_EARLY_REASONS = {
    EndReason.UNILATERAL_CHANGE,
    EndReason.SERIOUS_NON_PERFORMANCE,
    EndReason.MOVED_TO_UNSERVED_AREA,
    EndReason.DEATH,
}


def terminate_early(
    contract: Contract,
    reason: EndReason,
    received_on: date,
    *,
    change: ChangeAnnouncement | None = None,
    end_on: date | None = None,
) -> Contract:
    """The customer ends the contract before its term for a reason of art. 13.2.

    No remaining-term fees are due; the bundle credit lapses (art. 13.2). A unilateral change
    ends the contract on the day it takes effect, if the cancellation arrived before that day.
    For the other reasons the contract ends on `end_on` (default: the day received); only in
    case of death may it be dated back (to the date of death), never before the start.
    """
    if reason not in _EARLY_REASONS:
        raise BillingError(
            f"early cancellation is only possible for {sorted(r.value for r in _EARLY_REASONS)} "
            f"(art. 13.2), not {reason.value!r}"
        )
    require_step(contract, received_on, _RUNNING, "cancel early")
    if reason is EndReason.UNILATERAL_CHANGE:
        if change is None:
            raise BillingError("a cancellation because of a change needs the announced change")
        if not change.kind.allows_free_cancellation:
            raise BillingError(
                f"a change of kind {change.kind.value!r} gives no right to cancel (art. 13.3)"
            )
        if received_on >= change.effective_on:
            raise DeadlinePassed(
                f"the cancellation must arrive before the change takes effect on "
                f"{change.effective_on} (art. 13.3), it arrived on {received_on}"
            )
        ends_on = change.effective_on
    else:
        ends_on = end_on or received_on
        if ends_on < received_on and reason is not EndReason.DEATH:
            raise BillingError(f"the end date {ends_on} lies before the notice {received_on}")
    if contract.starts_on is not None:
        ends_on = max(ends_on, contract.starts_on)
    if contract.ends_on is not None:
        ends_on = min(ends_on, contract.ends_on)
    return replace(contract, notice_received_on=received_on, ends_on=ends_on, end_reason=reason)


@dataclass(frozen=True, slots=True)
class Withdrawal:
    contract: Contract
    used_days: int  # days in service before the withdrawal, paid pro rata (art. 29.1)
    charge: Price  # what those days cost: 1/30 of the monthly fee per day
    refund_due_by: date  # payments made are refunded within 14 days (art. 29.2)


def withdraw(contract: Contract, on: date) -> Withdrawal:
    """The consumer withdraws within the cooling-off period (art. 3.5, 29)."""
    if contract.status_on(on) is ContractStatus.APPLIED:
        # Not concluded yet: the application simply lapses, nothing is owed.
        ended = replace(contract, ends_on=on, end_reason=EndReason.WITHDRAWAL)
        return Withdrawal(ended, 0, Price.gross(0), on)
    last_day = cooling_off_last_day(contract)
    if last_day is None:
        raise InvalidTransition(
            f"contract {contract.id} has no right of withdrawal (consumer distance sales only)"
        )
    if on > last_day:
        raise DeadlinePassed(f"the cooling-off period ended on {last_day}; withdrawal on {on}")
    require_step(contract, on, _RUNNING, "withdraw")
    ended = replace(contract, notice_received_on=on, ends_on=on, end_reason=EndReason.WITHDRAWAL)
    used = ended.service
    used_days = used.days if used is not None else 0
    fraction = period_fraction(used) if used is not None else 0
    charge = contract.plan.monthly_fee.times(fraction)
    return Withdrawal(ended, used_days, charge, on + timedelta(days=REFUND_DAYS_AFTER_WITHDRAWAL))


@dataclass(frozen=True, slots=True)
class Transfer:
    old: Contract  # ends on the transfer date
    new: Contract  # the new occupant's contract, same plan and minimum term end
    fee: Price  # €45 admin costs, charged to the customer who asked (art. 12.2 "Verhuizen")


def transfer(
    contract: Contract, on: date, *, new_contract_id: str, new_account_id: str
) -> Transfer:
    """Hand the contract over to the new owner of the property on `on`.

    The new customer takes over the running contract (no new cooling-off, the same minimum
    term end); each side pays its own days of the month pro rata.
    """
    require_step(contract, on, _RUNNING, "transfer")
    if new_account_id == contract.account_id:
        raise BillingError("a transfer needs another account than the current one")
    start = max(on, contract.starts_on or on)
    new = replace(
        contract,
        id=new_contract_id,
        account_id=new_account_id,
        applied_on=on,
        accepted_on=on,
        starts_on=start,
        requested_start=None,
        distance_sale=False,
        goods_received_on=None,
        notice_received_on=None,
        ends_on=None,
        end_reason=None,
    )
    old = replace(contract, ends_on=on, end_reason=EndReason.TRANSFER)
    return Transfer(old, new, TRANSFER_FEE)


def terminate_for_default(contract: Contract, on: date) -> tuple[Contract, Price]:
    """We end the contract because the customer defaulted (art. 13.5).

    We may then charge the subscription fee for the rest of the minimum term: returned as one
    amount (1/30 per day for started months, exact until rounded once).
    """
    require_step(contract, on, _RUNNING, "end for default")
    ended = replace(contract, ends_on=on, end_reason=EndReason.CUSTOMER_DEFAULT)
    term_end = contract.minimum_term_end
    start = max(on, contract.starts_on or on)
    if term_end is None or term_end <= start:
        return ended, Price.gross(0)
    return ended, contract.plan.monthly_fee.times(period_fraction(Period(start, term_end)))
