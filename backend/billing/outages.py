"""Compensation for an outage of our software (art. 6.4).

A charge point or card unusable for more than 12 hours in a row through our software earns the
fixed subscription fee pro rata for the outage, with a minimum of one day; no fixed fee, no
compensation. Pro rata is counted in started 24-hour periods at 1/30 of the monthly fee each
(13 h → 1 day, 30 h → 2 days): the invoice works in days (art. 9.2) and rounding the outage
up is the customer-friendly reading of "naar rato ... met een minimum van 1 dag".
The credit goes on the invoice of the month in which the outage ended (Amsterdam time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .calendar import Month, local_month, require_aware
from .errors import BillingError
from .money import Price
from .prorata import fee_for_days

MINIMUM_OUTAGE = timedelta(hours=12)


class OutageCause(StrEnum):
    OUR_SOFTWARE = "our_software"
    CHARGER_HARDWARE = "charger_hardware"  # art. 6.1: not ours
    CUSTOMER = "customer"  # art. 6.3: equipment or acts of the customer
    MAINTENANCE_ANNOUNCED = "maintenance_announced"  # art. 6.2, charging kept working


@dataclass(frozen=True, slots=True)
class Outage:
    id: str
    contract_id: str  # the charge-point or card subscription that was unusable
    started_at: datetime
    ended_at: datetime
    cause: OutageCause

    def __post_init__(self) -> None:
        require_aware(self.started_at, "outage start")
        require_aware(self.ended_at, "outage end")
        if self.ended_at <= self.started_at:
            raise BillingError(f"outage {self.id} ends before it starts")

    @property
    def duration(self) -> timedelta:
        return self.ended_at - self.started_at

    @property
    def month(self) -> Month:
        return local_month(self.ended_at)


def compensated_days(outage: Outage) -> int:
    """Days compensated (0 when the outage does not qualify)."""
    if outage.cause is not OutageCause.OUR_SOFTWARE or outage.duration <= MINIMUM_OUTAGE:
        return 0
    return max(1, -(-outage.duration // timedelta(days=1)))


def compensation(outage: Outage, monthly_fee: Price) -> Price:
    """The credit (a positive price; it is booked as a negative line)."""
    return fee_for_days(monthly_fee, compensated_days(outage))
