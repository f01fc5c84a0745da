"""The €6.25 idle fee of a charge-point plan without a monthly fee (art. 12.2).

"No kWh charged for more than 30 days → €6.25 incl. VAT for each month after those 30 days,
unless after those 30 days the car charged at least twice a week for 4 consecutive weeks."

Our reading (docs/billing.md):
- a charging day is an Amsterdam calendar day on which a session with energy > 0 started at the
  contract's charge point (two sessions on one day are one charging day: re-plugging is not
  charging twice);
- the customer becomes *dormant* on the 31st day in a row without a charging day (counting from
  the service start when there was none yet);
- a single charge does not end dormancy: only the exception does, on the last day of the first
  28-day window (starting on or after the dormancy start) whose four 7-day weeks each hold at
  least two charging days; a new gap of more than 30 days makes the customer dormant again;
- the fee is due for a calendar month on the flexible plan that began while dormant and in which
  the exception was not completed (a month in which it is completed is waived); it is a monthly
  amount, so a last month cut short by the contract's end costs 1/30 per day (art. 9.2);
- only charging days up to the end of the month count, so re-invoicing a month later never
  changes its result.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from .calendar import Month, Period
from .prorata import month_fraction

IDLE_DAYS = 30
WEEKS_REQUIRED = 4
CHARGES_PER_WEEK = 2


@dataclass(frozen=True, slots=True)
class Dormancy:
    start: date  # first dormant day
    end: date | None  # last dormant day (exception completed), None while still dormant


def _exception_end(days: list[date], earliest_start: date, until: date) -> date | None:
    """Last day of the first qualifying 4-week window starting on or after `earliest_start`."""

    def count(start: date, end: date) -> int:
        return bisect_right(days, end) - bisect_left(days, start)

    # A qualifying window's first week holds a charging day c, so it starts in [c - 6, c].
    candidates = sorted(
        {c - timedelta(days=k) for c in days if c >= earliest_start for k in range(7)}
    )
    for start in candidates:
        end = start + timedelta(days=7 * WEEKS_REQUIRED - 1)
        if start < earliest_start or end > until:
            continue
        weeks = (start + timedelta(days=7 * w) for w in range(WEEKS_REQUIRED))
        if all(count(w, w + timedelta(days=6)) >= CHARGES_PER_WEEK for w in weeks):
            return end
    return None


def dormancies(service_start: date, charging_days: Iterable[date], until: date) -> list[Dormancy]:
    """Dormant spells from `service_start` up to and including `until`."""
    days = sorted({d for d in charging_days if service_start <= d <= until})
    spells: list[Dormancy] = []
    last = service_start - timedelta(days=1)  # idle counting starts on the first service day
    index = 0
    while True:
        # Next charging day after `last`; dormant if the gap runs past 30 idle days first.
        upcoming = days[index] if index < len(days) else None
        dormant_from = last + timedelta(days=IDLE_DAYS + 1)
        if upcoming is not None and upcoming < dormant_from:
            last, index = upcoming, index + 1
            continue
        if dormant_from > until:
            return spells
        end = _exception_end(days, dormant_from, until)
        spells.append(Dormancy(dormant_from, end))
        if end is None:
            return spells
        index = bisect_right(days, end)
        last = days[index - 1]


def idle_fee_fraction(service: Period, charging_days: Iterable[date], month: Month) -> Fraction:
    """Share of the €6.25 due for `month` (0, a 1/30-per-day share, or 1)."""
    if month.first not in service:
        return Fraction(0)
    last_in_service = min(month.last, service.end - timedelta(days=1))
    for spell in dormancies(service.start, charging_days, last_in_service):
        if spell.start <= month.first and (spell.end is None or spell.end > last_in_service):
            return month_fraction(service, month)
    return Fraction(0)
