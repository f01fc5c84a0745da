"""Changing plan (art. 12.2): at most once per calendar month, €7.50 incl. VAT each time.

A switch (fixed ↔ flexible, or another plan of the same kind) takes effect on the 1st of the
month after the request, so every billing month has one plan and the fee of the month is never
split between two plans. The terms allow a change "every month during the minimum term"; we
allow it afterwards too (the customer could otherwise end and re-sign monthly), keep the limit of
one per calendar month and do not restart the minimum term.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from .calendar import Month
from .contracts import Contract, ContractStatus
from .errors import InvalidTransition
from .money import Price
from .plans import SWITCH_FEE, Plan


@dataclass(frozen=True, slots=True)
class PlanSwitch:
    contract_id: str
    requested_on: date
    new_plan: Plan
    effective_on: date
    fee: Price = SWITCH_FEE


def plan_on(contract: Contract, switches: Sequence[PlanSwitch], day: date) -> Plan:
    """The plan in force on `day`: the latest switch that took effect by then, else the original."""
    plan, since = contract.plan, date.min
    for switch in switches:
        if switch.contract_id == contract.id and since <= switch.effective_on <= day:
            plan, since = switch.new_plan, switch.effective_on
    return plan


def request_switch(
    contract: Contract, switches: Sequence[PlanSwitch], new_plan: Plan, on: date
) -> PlanSwitch:
    """Validate a switch asked for on `on` and return it (effective the 1st of next month)."""
    status = contract.status_on(on)
    if status not in {ContractStatus.ACCEPTED, ContractStatus.ACTIVE}:
        raise InvalidTransition(f"contract {contract.id}: cannot switch plan when {status.value}")
    month = Month.of(on)
    for earlier in switches:
        if earlier.contract_id == contract.id and Month.of(earlier.requested_on) == month:
            raise InvalidTransition(
                f"contract {contract.id} already switched plan on {earlier.requested_on}; "
                f"one switch per month (art. 12.2), next from {month.next().first}"
            )
    effective_on = month.next().first
    current = plan_on(contract, switches, effective_on)
    if new_plan.kind is not current.kind:
        raise InvalidTransition(
            f"cannot switch a {current.kind.value} plan to {new_plan.kind.value}"
        )
    if new_plan.code == current.code:
        raise InvalidTransition(f"contract {contract.id} is already on plan {new_plan.code}")
    if contract.ends_on is not None and effective_on >= contract.ends_on:
        raise InvalidTransition(f"contract {contract.id} ends before the switch would take effect")
    return PlanSwitch(contract.id, on, new_plan, effective_on)
