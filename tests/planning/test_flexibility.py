"""Flexibility discount: a longer stated stay is never more expensive per kWh or per hour."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_components.eflux.core.planning import (
    FlexDiscount,
    FlexibilityTariff,
    PlanInputError,
    quote,
)

TARIFF = FlexibilityTariff(
    price_per_kwh=Decimal("0.40"),
    price_per_hour=Decimal("0.50"),
    discounts=(
        FlexDiscount(timedelta(hours=8), Decimal(25)),
        FlexDiscount(timedelta(hours=4), Decimal(10)),
    ),
)


@pytest.mark.parametrize(
    ("hours", "percent", "cents"),
    [
        (2, Decimal(0), 900),  # 20 kWh x 0.40 + 2 h x 0.50
        (4, Decimal(10), 900),  # (8.00 + 2.00) x 0.90
        (8, Decimal(25), 900),  # (8.00 + 4.00) x 0.75
        (12, Decimal(25), 1050),  # (8.00 + 6.00) x 0.75
    ],
)
def test_quotes_follow_the_configured_steps(hours: int, percent: Decimal, cents: int) -> None:
    result = quote(TARIFF, timedelta(hours=hours), Decimal(20))
    assert result.discount_percent == percent
    assert result.total_cents == cents


def test_the_docs_example_gets_cheaper_per_hour_of_stay() -> None:
    per_hour = [
        quote(TARIFF, timedelta(hours=h), Decimal(20)).cents_per_hour_of_stay for h in (2, 4, 8)
    ]
    assert per_hour == [450, 225, Fraction(225, 2)]


def test_amounts_are_rounded_half_up_to_whole_cents() -> None:
    tariff = FlexibilityTariff(price_per_kwh=Decimal("0.3333"))
    assert quote(tariff, timedelta(hours=1), Decimal("1.5")).total_cents == 50  # 0.49995


@given(
    shorter=st.integers(min_value=1, max_value=48 * 60),
    longer_by=st.integers(min_value=0, max_value=48 * 60),
    energy=st.integers(min_value=0, max_value=80),
)
def test_a_longer_stay_is_never_more_expensive_per_kwh_or_per_hour(
    shorter: int, longer_by: int, energy: int
) -> None:
    short = quote(TARIFF, timedelta(minutes=shorter), Decimal(energy))
    long = quote(TARIFF, timedelta(minutes=shorter + longer_by), Decimal(energy))
    assert long.price_per_kwh <= short.price_per_kwh
    assert long.price_per_hour <= short.price_per_hour
    assert long.cents_per_hour_of_stay <= short.cents_per_hour_of_stay


@pytest.mark.parametrize(
    ("tariff", "field"),
    [
        (FlexibilityTariff(price_per_kwh=Decimal("-0.1")), "tariff.price_per_kwh"),
        (FlexibilityTariff(price_per_kwh=0.25), "tariff.price_per_kwh"),  # type: ignore[arg-type]
        (
            FlexibilityTariff(
                Decimal("0.3"), discounts=(FlexDiscount(timedelta(hours=2), Decimal(120)),)
            ),
            "tariff.discounts[0].percent",
        ),
        (
            FlexibilityTariff(
                Decimal("0.3"),
                discounts=(
                    FlexDiscount(timedelta(hours=2), Decimal(20)),
                    FlexDiscount(timedelta(hours=6), Decimal(10)),
                ),
            ),
            "tariff.discounts[1].percent",
        ),
        (
            FlexibilityTariff(
                Decimal("0.3"),
                discounts=(
                    FlexDiscount(timedelta(hours=2), Decimal(10)),
                    FlexDiscount(timedelta(hours=2), Decimal(10)),
                ),
            ),
            "tariff.discounts",
        ),
        (
            FlexibilityTariff(
                Decimal("0.3"), discounts=(FlexDiscount(timedelta(hours=-1), Decimal(5)),)
            ),
            "tariff.discounts[0].min_stay",
        ),
    ],
)
def test_bad_tariffs_are_refused_by_field(tariff: FlexibilityTariff, field: str) -> None:
    with pytest.raises(PlanInputError) as caught:
        quote(tariff, timedelta(hours=3), Decimal(10))
    assert caught.value.field == field


def test_bad_stays_and_energies_are_refused() -> None:
    with pytest.raises(PlanInputError, match="stay"):
        quote(TARIFF, timedelta(hours=-1), Decimal(10))
    with pytest.raises(PlanInputError, match="energy_kwh"):
        quote(TARIFF, timedelta(hours=1), float("nan"))
    with pytest.raises(PlanInputError, match="energy_kwh"):
        quote(TARIFF, timedelta(hours=1), Decimal(-1))
