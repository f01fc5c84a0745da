"""Compensation for an outage of our software (art. 6.4).

A charge point or card unusable for more than 12 hours in a row through our software earns the
fixed subscription fee pro rata for the outage, with a minimum of one day; no fixed fee, no
compensation. Pro rata by the hour: each started hour of the outage is 1/24 of a day at 1/30 of
the monthly fee per day, with a minimum of one day ("naar rato teruggerekend ... met een
minimum van 1 dag"): 13 h → 1 day, 36 h → 1.5 days, 36 h 10 min → 37 h = 1 13/24 days.
The credit goes on the invoice of the month in which the outage ended (Amsterdam time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from .calendar import Month, local_month, require_aware
from .errors import BillingError
from .money import Price
from .prorata import DAYS_PER_MONTH_FOR_PRO_RATA

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


def compensated_days(outage: Outage) -> Fraction:
    """Days compensated, exact (0 when the outage does not qualify): started hours / 24, at
    least 1."""
    if outage.cause is not OutageCause.OUR_SOFTWARE or outage.duration <= MINIMUM_OUTAGE:
        return Fraction(0)
    hours = -(-outage.duration // timedelta(hours=1))  # started hours
    return max(Fraction(1), Fraction(hours, 24))


def days_text(days: Fraction) -> str:
    """1.5 for 3/2; 1 13/24 when the hours do not make a decimal of a day."""
    if (days * 100).denominator == 1:
        return f"{float(days):g}"
    whole = days.numerator // days.denominator
    return f"{whole} {days - whole}"


def compensation(outage: Outage, monthly_fee: Price) -> Price:
    """The credit (a positive price; it is booked as a negative line), rounded once."""
    return monthly_fee.times(compensated_days(outage) / DAYS_PER_MONTH_FOR_PRO_RATA)
