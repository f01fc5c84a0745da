"""Installation orders (seed 002): ordered → partner appointment → installed (the technician's
test session recorded) → inspection ordered → inspection → approved (charge point added to the
account) or rejected (report with reasons e-mailed; fix; second inspection, or the partner comes
back first). Each step is a function on a frozen order; a step out of order is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from .errors import BillingError, InvalidTransition


class OrderState(StrEnum):
    ORDERED = "ordered"
    APPOINTMENT_SCHEDULED = "appointment_scheduled"
    INSPECTION_ORDERED = "inspection_ordered"  # installed; the partner reported success
    INSPECTION_SCHEDULED = "inspection_scheduled"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class InspectionReport:
    number: int  # 1 for the first inspection, 2 for the second, ...
    on: date
    approved: bool
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class InstallationOrder:
    id: str
    account_id: str
    ordered_on: date
    state: OrderState = OrderState.ORDERED
    last_event_on: date | None = None
    appointment_on: date | None = None
    installed_on: date | None = None
    test_session_id: str | None = None  # the technician's test session our back end recorded
    inspection_on: date | None = None
    reports: tuple[InspectionReport, ...] = ()
    charge_point_id: str | None = None  # set when approved: added to the account
    active_from: date | None = None


def _step(order: InstallationOrder, on: date, allowed: set[OrderState], what: str) -> None:
    if order.state not in allowed:
        raise InvalidTransition(f"order {order.id}: cannot {what} when {order.state.value}")
    if on < (order.last_event_on or order.ordered_on):
        raise InvalidTransition(f"order {order.id}: {what} on {on} is before its last step")


def schedule_installation(
    order: InstallationOrder, on: date, appointment: date
) -> InstallationOrder:
    """The service partner agrees an appointment (again, when the inspector found its fault)."""
    _step(order, on, {OrderState.ORDERED, OrderState.REJECTED}, "schedule the installation")
    if appointment < on:
        raise BillingError("an appointment cannot lie before the day it is made")
    return replace(
        order, state=OrderState.APPOINTMENT_SCHEDULED, last_event_on=on, appointment_on=appointment
    )


def record_installation(
    order: InstallationOrder, on: date, test_session_id: str
) -> InstallationOrder:
    """The partner reports success; the test session proves the back end records sessions.

    This generates the inspection order.
    """
    _step(order, on, {OrderState.APPOINTMENT_SCHEDULED}, "record the installation")
    if not test_session_id.strip():
        raise BillingError("an installation is recorded with the technician's test session")
    return replace(
        order,
        state=OrderState.INSPECTION_ORDERED,
        last_event_on=on,
        installed_on=on,
        test_session_id=test_session_id,
    )


def schedule_inspection(order: InstallationOrder, on: date, inspection: date) -> InstallationOrder:
    """The inspection partner's appointment (also the second one after a rejection)."""
    _step(order, on, {OrderState.INSPECTION_ORDERED, OrderState.REJECTED}, "schedule inspection")
    if order.state is OrderState.REJECTED and order.installed_on is None:
        raise InvalidTransition(f"order {order.id}: nothing installed to inspect")
    if inspection < on:
        raise BillingError("an inspection cannot lie before the day it is planned")
    return replace(
        order, state=OrderState.INSPECTION_SCHEDULED, last_event_on=on, inspection_on=inspection
    )


def approve(order: InstallationOrder, on: date, charge_point_id: str) -> InstallationOrder:
    """Approved: the charge point is configured and added to the account, active from `on`."""
    _step(order, on, {OrderState.INSPECTION_SCHEDULED}, "approve")
    if not charge_point_id.strip():
        raise BillingError("approval adds a charge point: its id is needed")
    report = InspectionReport(len(order.reports) + 1, on, approved=True)
    return replace(
        order,
        state=OrderState.APPROVED,
        last_event_on=on,
        reports=(*order.reports, report),
        charge_point_id=charge_point_id,
        active_from=on,
    )


def reject(order: InstallationOrder, on: date, reasons: tuple[str, ...]) -> InstallationOrder:
    """Rejected: the report with its reasons goes to the customer (the platform e-mails it)."""
    _step(order, on, {OrderState.INSPECTION_SCHEDULED}, "reject")
    cleaned = tuple(r.strip() for r in reasons if r.strip())
    if not cleaned:
        raise BillingError("a rejected inspection's report must give its reasons")
    report = InspectionReport(len(order.reports) + 1, on, approved=False, reasons=cleaned)
    return replace(
        order, state=OrderState.REJECTED, last_event_on=on, reports=(*order.reports, report)
    )
