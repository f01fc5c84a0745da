"""Contract lifecycle with dates (art. 3.1, 3.5, 4, 5, 12.2, 13.1, 29.1).

applied → accepted → active → notice given → ended (or rejected / withdrawn). A `Contract` is a
frozen value; each step is a function returning the next value, and refuses a step the terms do
not allow with a `BillingError` naming the rule. Service periods are half-open: `ends_on` is the
first day no longer in service. Early ends (art. 13.2/13.3), withdrawal (art. 29) and transfer
live in `termination.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from .calendar import Period, add_months
from .errors import DeadlinePassed, InvalidTransition
from .plans import Plan, PlanKind

COOLING_OFF_DAYS = 14  # art. 3.5 / 29.1
NOTICE_MONTHS = 1  # art. 13.1


class ContractStatus(StrEnum):
    APPLIED = "applied"
    ACCEPTED = "accepted"  # concluded, service not started yet (cooling-off, start date)
    ACTIVE = "active"
    NOTICE_GIVEN = "notice_given"
    ENDED = "ended"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class EndReason(StrEnum):
    NOTICE = "notice"  # 13.1 ordinary notice
    UNILATERAL_CHANGE = "unilateral_change"  # 13.3
    SERIOUS_NON_PERFORMANCE = "serious_non_performance"  # 13.2
    MOVED_TO_UNSERVED_AREA = "moved_to_unserved_area"  # 13.2
    DEATH = "death"  # 13.2
    WITHDRAWAL = "withdrawal"  # 29 cooling-off
    TRANSFER = "transfer"  # 12.2 "Verhuizen": taken over by the new occupant
    CUSTOMER_DEFAULT = "customer_default"  # 13.5: ended by us


@dataclass(frozen=True, slots=True)
class AddOn:
    """An additional service that needs this base contract (art. 5), with its own term end."""

    code: str
    ends_on: date


@dataclass(frozen=True, slots=True)
class Contract:
    id: str
    account_id: str
    plan: Plan
    applied_on: date
    is_consumer: bool = True
    distance_sale: bool = True  # concluded online/by phone: 14-day cooling-off (art. 3.5)
    requested_start: date | None = None  # art. 4: the start date the customer asked for
    immediate_start: bool = False  # art. 29.1: start now, waiving the 14-day wait
    goods_received_on: date | None = None  # art. 3.5: card/charger delivered with the service
    accepted_on: date | None = None
    rejected_on: date | None = None
    starts_on: date | None = None
    minimum_term_end: date | None = None  # exclusive; None for prepaid (indefinite)
    notice_received_on: date | None = None
    ends_on: date | None = None  # exclusive
    end_reason: EndReason | None = None
    addons: tuple[AddOn, ...] = ()
    charge_point_id: str | None = None  # the charge point a charge-point plan manages

    def status_on(self, day: date) -> ContractStatus:
        if self.rejected_on is not None and day >= self.rejected_on:
            return ContractStatus.REJECTED
        if self.ends_on is not None and day >= self.ends_on:
            if self.end_reason is EndReason.WITHDRAWAL:
                return ContractStatus.WITHDRAWN
            return ContractStatus.ENDED
        if self.accepted_on is None or day < self.accepted_on:
            return ContractStatus.APPLIED
        if self.notice_received_on is not None and day >= self.notice_received_on:
            return ContractStatus.NOTICE_GIVEN
        if self.starts_on is not None and day >= self.starts_on:
            return ContractStatus.ACTIVE
        return ContractStatus.ACCEPTED

    @property
    def service(self) -> Period | None:
        """The days in service, `[starts_on, ends_on)`; open-ended contracts run to 9999."""
        if self.starts_on is None:
            return None
        end = self.ends_on if self.ends_on is not None else date(9999, 1, 1)
        return Period(self.starts_on, max(end, self.starts_on))

    @property
    def last_event_on(self) -> date:
        dates = [self.applied_on, self.accepted_on, self.rejected_on, self.notice_received_on]
        return max(d for d in dates if d is not None)


def require_step(contract: Contract, on: date, allowed: set[ContractStatus], step: str) -> None:
    if on < contract.last_event_on:
        raise InvalidTransition(
            f"contract {contract.id}: {step} on {on} is before its last event "
            f"({contract.last_event_on})"
        )
    status = contract.status_on(on)
    if status not in allowed:
        raise InvalidTransition(f"contract {contract.id}: cannot {step} when {status.value}")


def cooling_off_last_day(contract: Contract) -> date | None:
    """Last day to withdraw (art. 3.5): 14 days after conclusion, or after receiving the goods.

    The day of conclusion itself is not counted (EU rule on time limits), so a contract
    concluded on 1 March can be withdrawn up to and including 15 March. None when the right does
    not apply (not a consumer, not a distance sale, prepaid) or has not started yet.
    """
    if not (contract.is_consumer and contract.distance_sale):
        return None
    if contract.plan.kind is PlanKind.PREPAID or contract.accepted_on is None:
        return None
    base = contract.goods_received_on or contract.accepted_on
    return base + timedelta(days=COOLING_OFF_DAYS)


def _start_date(contract: Contract, accepted_on: date) -> date:
    """Art. 4 and 29.1: when the service starts once accepted."""
    kind = contract.plan.kind
    if kind is PlanKind.CARD:
        return contract.applied_on  # a card plan starts at the application (conditionally)
    if kind is PlanKind.PREPAID:
        return accepted_on  # the prepaid agreement starts with its first use (art. 3.1)
    start = max(contract.requested_start or accepted_on, accepted_on)
    if contract.is_consumer and contract.distance_sale and not contract.immediate_start:
        # Charge-point plans wait out the 14 days unless an immediate start was asked for.
        start = max(start, accepted_on + timedelta(days=COOLING_OFF_DAYS + 1))
    return start


def _minimum_term_end(plan: Plan, starts_on: date, addons: tuple[AddOn, ...]) -> date | None:
    if plan.kind is PlanKind.PREPAID:
        return None
    end = add_months(starts_on, plan.minimum_term_months)
    return max([end, *(a.ends_on for a in addons)])


def accept(contract: Contract, on: date) -> Contract:
    """We confirm the application (art. 3.1): the contract is concluded on `on`."""
    require_step(contract, on, {ContractStatus.APPLIED}, "accept")
    starts_on = _start_date(contract, on)
    return replace(
        contract,
        accepted_on=on,
        starts_on=starts_on,
        minimum_term_end=_minimum_term_end(contract.plan, starts_on, contract.addons),
    )


def reject(contract: Contract, on: date) -> Contract:
    require_step(contract, on, {ContractStatus.APPLIED}, "reject")
    return replace(contract, rejected_on=on)


def notice_deadline(contract: Contract) -> date | None:
    """Last day a notice ends the contract at its minimum term end (art. 13.1).

    Minimum term ending 1 November → notice by 1 October. With month-end clamping the deadline
    is the last day whose "one month later" is not after the term end (30 April → 31 March).
    """
    end = contract.minimum_term_end
    if end is None:
        return None
    deadline = add_months(end, -NOTICE_MONTHS)
    while add_months(deadline + timedelta(days=1), NOTICE_MONTHS) <= end:
        deadline += timedelta(days=1)
    return deadline


def end_after_notice(contract: Contract, received_on: date) -> date:
    """First day out of service after a notice received on `received_on`.

    At the end of the minimum term if notice came by the deadline, else one month after the
    notice (month-to-month afterwards). Dutch consumer law (art. 7:408 BW, Wet Pels) lets a
    consumer end a tacitly continued contract any day with at most one month's notice, so after
    the deadline the end is notice + 1 month to the day, billed pro rata; we apply the same to
    business customers to keep one rule. Prepaid ends at once (art. 13.1).
    """
    if contract.minimum_term_end is None:
        return received_on
    return max(contract.minimum_term_end, add_months(received_on, NOTICE_MONTHS))


def give_notice(contract: Contract, received_on: date) -> Contract:
    """The customer's ordinary notice (art. 13.1), dated when we received it."""
    require_step(
        contract,
        received_on,
        {ContractStatus.ACCEPTED, ContractStatus.ACTIVE},
        "take notice",
    )
    return replace(
        contract,
        notice_received_on=received_on,
        ends_on=end_after_notice(contract, received_on),
        end_reason=EndReason.NOTICE,
    )


def add_addon(contract: Contract, addon: AddOn, on: date) -> Contract:
    """Art. 5: an add-on extends the base contract's minimum term to the add-on's end."""
    require_step(contract, on, {ContractStatus.ACCEPTED, ContractStatus.ACTIVE}, "add a service")
    if addon.ends_on <= on:
        raise DeadlinePassed(f"add-on {addon.code} would end ({addon.ends_on}) before it starts")
    term_end = contract.minimum_term_end
    return replace(
        contract,
        addons=(*contract.addons, addon),
        minimum_term_end=max(term_end, addon.ends_on) if term_end else addon.ends_on,
    )


def addon_end(contract: Contract, addon: AddOn) -> date:
    """An add-on ends with its own term, or earlier with its base contract (art. 5)."""
    if contract.ends_on is None:
        return addon.ends_on
    return min(addon.ends_on, contract.ends_on)
