"""Reading form fields: text with a length cap, optional ids, euro amounts."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..billing.errors import BillingError
from ..billing.money import eur
from ..parse import ParseError, clean_text, digits


class FormError(Exception):
    """A form value the user must correct; `key` names the message in locale/*.json."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def field(form: Mapping[str, Any], name: str, max_length: int = 200) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        raise FormError("form.not_text", name=name)
    if len(value) > max_length:
        raise FormError("form.too_long", name=name, max=max_length)
    try:
        return clean_text(value).strip()
    except ParseError as err:  # NUL or a lone surrogate: nothing a person types
        raise FormError("form.not_text", name=name) from err


def optional_id(form: Mapping[str, Any], name: str) -> int | None:
    value = field(form, name, 20)
    if not value:
        return None
    try:
        return digits(value, name)
    except ParseError as err:
        raise FormError("form.not_number", name=name) from err


def amount(form: Mapping[str, Any], name: str) -> int:
    """Euros with at most 2 decimals in ASCII digits ('12,50'; not full-width digits)."""
    text = field(form, name, 20)
    if not text.isascii():
        raise FormError("form.not_amount", name=name)
    try:
        return eur(text)
    except BillingError as err:
        raise FormError("form.not_amount", name=name) from err


def tariff_part(form: Mapping[str, Any], name: str) -> Decimal:
    """A tariff component in euros (up to 4 decimals, e.g. 0.3450) as Decimal cents."""
    text = field(form, name, 20).replace(",", ".") or "0"
    if not text.isascii():  # Decimal() reads full-width and Arabic-Indic digits too
        raise FormError("form.not_amount", name=name)
    try:
        value = Decimal(text)
    except ArithmeticError as err:
        raise FormError("form.not_amount", name=name) from err
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -4:  # type: ignore[operator]
        raise FormError("form.not_amount", name=name)
    return value * 100
