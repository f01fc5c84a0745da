"""Pro rata for a started billing period (art. 9.2, 22.1 a).

A calendar month fully in service costs the monthly fee, whatever its length (28-31 days).
A started month costs 1/30 of the monthly fee per day in service, and never more than the
monthly fee: 30 or 31 days in a 31-day month that misses its 1st still cost one month, not
31/30 (a careful reading: "1/30 per day" is a pro-rata device, not a surcharge).
"""

from __future__ import annotations

from fractions import Fraction

from .calendar import Month, Period
from .money import Price

DAYS_PER_MONTH_FOR_PRO_RATA = 30


def month_fraction(service: Period, month: Month) -> Fraction:
    """Share of `month`'s fee due for a service running over `service` (0 to 1)."""
    overlap = service.intersect(month.period)
    if overlap is None:
        return Fraction(0)
    if overlap.days == month.days:
        return Fraction(1)
    return Fraction(min(overlap.days, DAYS_PER_MONTH_FOR_PRO_RATA), DAYS_PER_MONTH_FOR_PRO_RATA)


def months_of(period: Period) -> list[Month]:
    """The calendar months `period` touches, in order."""
    if period.days == 0:
        return []
    months, month = [], Month.of(period.start)
    while month.first < period.end:
        months.append(month)
        month = month.next()
    return months


def period_fraction(service: Period) -> Fraction:
    """Months' worth of fee for `service`, month by month (exact)."""
    return sum((month_fraction(service, m) for m in months_of(service)), Fraction(0))


def fee_for_month(fee: Price, service: Period, month: Month) -> Price:
    return fee.times(month_fraction(service, month))


def fee_for_days(fee: Price, days: int) -> Price:
    """`days` x 1/30 of the monthly fee, rounded once (outage compensation, withdrawal)."""
    return fee.times(Fraction(days, DAYS_PER_MONTH_FOR_PRO_RATA))
