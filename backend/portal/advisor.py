"""The charger advisor's form: the answers as a `Situation` for backend.billing.advisor
(the rules live there, shared with the API's /installation-orders/advice)."""

from __future__ import annotations

from decimal import Decimal

from ..billing.advisor import RANGES, Advice, Situation, recommend, situation
from .forms import FormError

__all__ = ["Advice", "Situation", "recommend", "situation_from"]


def _decimal(text: str, name: str) -> Decimal:
    low, high = RANGES[name]
    try:
        value = Decimal(text.replace(",", "."))
    except ArithmeticError as err:
        raise FormError("form.not_number", name=name) from err
    if not value.is_finite() or not low <= value <= high:
        raise FormError("form.out_of_range", name=name, low=low, high=high)
    return value


def situation_from(form: dict[str, str]) -> Situation:
    if form.get("phases") not in {"1", "3"}:
        raise FormError("form.not_number", name="phases")
    return situation(
        int(form["phases"]),
        _decimal(form.get("cable_mm2", ""), "cable_mm2"),
        _decimal(form.get("car_max_kw", ""), "car_max_kw"),
        _decimal(form.get("battery_kwh", ""), "battery_kwh"),
        public=form.get("location") == "public",
        outdoor=form.get("outdoor") == "1",
        limited_power=form.get("limited_power") == "1",
        back_office=form.get("back_office") == "1",
    )
