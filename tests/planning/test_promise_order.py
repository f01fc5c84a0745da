"""A promise made is kept ahead of a car that arrives later with less slack, within its priority
class; a higher class still comes first."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from custom_components.eflux.core.planning import CarDemand, plan

NOW = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


def cars() -> tuple[CarDemand, CarDemand]:
    # 11 kW for both together over 2 h: 22 kWh. Each needs 15 kWh (efficiency 1).
    early = CarDemand("early", NOW + timedelta(hours=2), 30, 0, 11, target_soc=50, efficiency=1)
    urgent = CarDemand("urgent", NOW + timedelta(hours=1, minutes=30), 30, 0, 11,
                       target_soc=50, efficiency=1)  # fmt: skip
    return early, urgent


def test_least_laxity_decides_between_cars_nothing_was_promised_to() -> None:
    early, urgent = cars()
    result = plan([early, urgent], NOW, 11.0)
    assert result.cars["urgent"].will_make_it
    assert not result.cars["early"].will_make_it


def test_a_promise_is_kept_ahead_of_a_later_car_with_less_slack() -> None:
    early, urgent = cars()
    result = plan([replace(early, promised=True), urgent], NOW, 11.0)
    assert result.cars["early"].will_make_it
    assert not result.cars["urgent"].will_make_it
    assert result.cars["urgent"].shortfall_kwh > 0  # said at once, honestly
    # A higher priority class still comes first.
    result = plan([replace(early, promised=True), replace(urgent, priority=1)], NOW, 11.0)
    assert result.cars["urgent"].will_make_it
    assert not result.cars["early"].will_make_it
