"""Departure-time planning and flexibility pricing: pure functions, no clock, no I/O.

`plan(cars, now, capacity_kw, prices)` shares the power on 15-minute slots so that every car is
full by its departure whenever that is possible, prefers cheap hours when every car stays on time,
and reports per car the expected finish time, whether it makes it and the shortfall.
`quote(tariff, stay, energy)` prices a stay with the flexibility discount of its charge point.
"""

from .flexibility import FlexDiscount, FlexibilityTariff, FlexQuote, quote
from .model import (
    CarDemand,
    Limit,
    PlanInputError,
    demand_from_request,
    energy_needed_kwh,
    urgency_kw,
)
from .planner import CarPlan, Plan, plan
from .slots import SLOT, Slot

__all__ = [
    "SLOT",
    "CarDemand",
    "CarPlan",
    "FlexDiscount",
    "FlexQuote",
    "FlexibilityTariff",
    "Limit",
    "Plan",
    "PlanInputError",
    "Slot",
    "demand_from_request",
    "energy_needed_kwh",
    "plan",
    "quote",
    "urgency_kw",
]
