"""Yearly CPI indexation of tariffs (art. 9.1, 12.1, 13.3).

Only for customers who are a customer for *more than* 3 months on the indexation date (a
customer since 1 January is not indexed on 1 April, but is on 2 April), announced at least one
month ahead: an announcement later than that moves the effective date, it does not shorten the
notice. The CPI percentage (CBS) applies both ways; the new price is rounded half up to cents on
its own basis (incl. or excl. VAT). Agreed indexation gives no right to cancel (art. 13.3).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from .calendar import Month, add_months
from .errors import BillingError
from .money import Price, exact

MINIMUM_TENURE_MONTHS = 3


@dataclass(frozen=True, slots=True)
class Indexation:
    cpi_percent: Decimal  # CBS consumer price index change, e.g. Decimal("3.1")
    planned_on: date  # the indexation date published in the tariffs
    announced_on: date

    def __post_init__(self) -> None:
        if exact(self.cpi_percent, "CPI percentage") <= -100:
            raise BillingError("a CPI change of -100 % or less makes no price")

    @property
    def effective_on(self) -> date:
        return max(self.planned_on, add_months(self.announced_on, 1))


def applies_to(indexation: Indexation, customer_since: date) -> bool:
    return add_months(customer_since, MINIMUM_TENURE_MONTHS) < indexation.effective_on


def indexed_price(price: Price, indexation: Indexation, customer_since: date) -> Price:
    if not applies_to(indexation, customer_since):
        return price
    return price.times(1 + exact(indexation.cpi_percent) / Fraction(100))


def indexed_fee(
    price: Price, indexations: Iterable[Indexation], customer_since: date, on: date
) -> Price:
    """`price` after every indexation in force on `on` that applied to this customer.

    Indexations compound year after year, each rounded to cents as the new price list would
    be. **Choice:** an indexation taking effect in the middle of a month counts from the next
    billing month, so no month is split between two prices.
    """
    for indexation in sorted(indexations, key=lambda i: i.effective_on):
        if indexation.effective_on <= Month.of(on).first:
            price = indexed_price(price, indexation, customer_since)
    return price
