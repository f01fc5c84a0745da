"""Flexibility discount: the longer a car stays (the more room it gives the planner), the less
its charging costs, as configured per charge point.

A tariff has a price per kWh, optionally a price per hour parked, and discount steps: from a
stated stay of at least `min_stay`, `percent` off both. Steps may never make a longer stay more
expensive. Amounts are Decimal euros; the total is whole cents, rounded half up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from .model import PlanInputError

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class FlexDiscount:
    min_stay: timedelta
    percent: Decimal


@dataclass(frozen=True, slots=True)
class FlexibilityTariff:
    price_per_kwh: Decimal
    price_per_hour: Decimal = Decimal(0)
    discounts: tuple[FlexDiscount, ...] = ()

    def validate(self) -> None:
        for name in ("price_per_kwh", "price_per_hour"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                shown = value if isinstance(value, Decimal) else repr(value)
                raise PlanInputError(f"tariff.{name}", f"must be a Decimal ≥ 0, got {shown}")
        best = Decimal(0)
        # Judged from the shortest stay up, but named by the step's place as written.
        for i, step in sorted(enumerate(self.discounts), key=lambda d: d[1].min_stay):
            key = f"tariff.discounts[{i}]"
            if step.min_stay < timedelta(0):
                raise PlanInputError(f"{key}.min_stay", "must not be negative")
            percent = step.percent
            if (
                not isinstance(percent, Decimal)
                or not percent.is_finite()
                or not 0 <= percent <= 100
            ):
                shown = percent if isinstance(percent, Decimal) else repr(percent)
                raise PlanInputError(f"{key}.percent", f"must be a Decimal 0..100, got {shown}")
            if percent < best:
                raise PlanInputError(
                    f"{key}.percent",
                    f"{percent}% from {step.min_stay} is less than {best}% for a shorter stay:"
                    " a longer stay may never cost more",
                )
            best = percent
        stays = [d.min_stay for d in self.discounts]
        if len(set(stays)) != len(stays):
            raise PlanInputError("tariff.discounts", "two steps with the same min_stay")


@dataclass(frozen=True, slots=True)
class FlexQuote:
    stay: timedelta
    discount_percent: Decimal
    price_per_kwh: Decimal  # after the discount
    price_per_hour: Decimal  # after the discount
    energy_kwh: Decimal
    total_cents: int  # what is charged: rounded half up, once

    @property
    def exact_cents(self) -> Fraction:
        """The price before rounding, exactly (an hour is not a finite decimal of seconds)."""
        hours = Fraction(int(self.stay.total_seconds()), 3600)
        per_kwh, per_hour = Fraction(self.price_per_kwh), Fraction(self.price_per_hour)
        return (Fraction(self.energy_kwh) * per_kwh + hours * per_hour) * 100

    @property
    def cents_per_hour_of_stay(self) -> Fraction:
        """What the whole stay costs per hour: falls as the stay (and its discount) grows."""
        hours = Fraction(int(self.stay.total_seconds()), 3600)
        return self.exact_cents / hours if hours > 0 else self.exact_cents


def discount_for(tariff: FlexibilityTariff, stay: timedelta) -> Decimal:
    """The percent off for a stated stay (the best step it reaches)."""
    reached = [d.percent for d in tariff.discounts if stay >= d.min_stay]
    return max(reached, default=Decimal(0))


def quote(tariff: FlexibilityTariff, stay: timedelta, energy_kwh: Decimal | float) -> FlexQuote:
    """The price of a stay of `stay` (the driver's stated departure minus arrival) charging
    `energy_kwh`."""
    tariff.validate()
    if stay < timedelta(0):
        raise PlanInputError("stay", "must not be negative")
    energy = energy_kwh if isinstance(energy_kwh, Decimal) else Decimal(repr(energy_kwh))
    if not energy.is_finite() or energy < 0:
        raise PlanInputError("energy_kwh", f"must be ≥ 0, got {energy_kwh!r}")
    percent = discount_for(tariff, stay)
    keep = (HUNDRED - percent) / HUNDRED
    result = FlexQuote(
        stay, percent, tariff.price_per_kwh * keep, tariff.price_per_hour * keep, energy, 0
    )
    cents = math.floor(result.exact_cents + Fraction(1, 2))  # half up: every amount is >= 0
    return replace(result, total_cents=cents)
