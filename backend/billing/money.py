"""Money: integer euro cents, VAT 21 % and one rounding rule.

Rounding rule (documented in docs/billing.md): amounts are computed exactly (`Fraction`) and
rounded once, to whole cents, halves away from zero ("rekenkundig afronden", what the
Belastingdienst accepts). VAT is computed per invoice line, so that every line is self-consistent
(net + VAT = gross) and an invoice's totals are plain sums of its lines:
- a price stated incl. VAT (consumer prices, e.g. €7.50) keeps its gross; VAT = gross x 21/121,
  rounded; net = gross - VAT;
- a price stated excl. VAT (e.g. the €40 minimum admin fee) keeps its net; VAT = net x 21 %,
  rounded; gross = net + VAT.
Never float: a float amount is refused with a clear error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from .errors import BillingError

type Exact = int | Fraction | Decimal


class VatRate(StrEnum):
    STANDARD = "standard"  # 21 % (NL), on every supply of ours
    OUT_OF_SCOPE = "out_of_scope"  # interest, reimbursements, payouts to owners without VAT number

    @property
    def percent(self) -> int:
        return 21 if self is VatRate.STANDARD else 0


class Basis(StrEnum):
    GROSS = "incl_vat"
    NET = "excl_vat"


def require_cents(value: object, what: str = "amount") -> int:
    """`value` as integer cents; floats, bools and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BillingError(
            f"{what} must be integer euro cents, got {type(value).__name__} {value!r}"
        )
    return value


def exact(value: object, what: str = "value") -> Fraction:
    """An exact number from int, Decimal or Fraction; float is refused (it cannot hold 0.1)."""
    if isinstance(value, bool | float) or not isinstance(value, int | Decimal | Fraction):
        raise BillingError(f"{what} must be int, Decimal or Fraction, got {type(value).__name__}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise BillingError(f"{what} must be finite, got {value}")
    return Fraction(value)


def round_ratio(numerator: int, denominator: int) -> int:
    """`numerator / denominator` (denominator > 0) rounded half away from zero, in integers."""
    magnitude = (2 * abs(numerator) + denominator) // (2 * denominator)
    return magnitude if numerator >= 0 else -magnitude


def round_half_up(value: Exact) -> int:
    """Round to whole cents, halves away from zero (so a credit is the exact mirror of a charge)."""
    q = exact(value)
    return round_ratio(q.numerator, q.denominator)


@dataclass(frozen=True, slots=True)
class VatSplit:
    """One amount as net + VAT = gross, in cents."""

    net: int
    vat: int
    gross: int
    rate: VatRate = VatRate.STANDARD

    def __post_init__(self) -> None:
        for name in ("net", "vat", "gross"):
            require_cents(getattr(self, name), name)
        if self.net + self.vat != self.gross:
            raise BillingError(f"net {self.net} + VAT {self.vat} != gross {self.gross}")

    @classmethod
    def from_gross(cls, gross: int, rate: VatRate = VatRate.STANDARD) -> VatSplit:
        require_cents(gross, "gross")
        vat = round_ratio(gross * rate.percent, 100 + rate.percent)
        return cls(gross - vat, vat, gross, rate)

    @classmethod
    def from_net(cls, net: int, rate: VatRate = VatRate.STANDARD) -> VatSplit:
        require_cents(net, "net")
        vat = round_ratio(net * rate.percent, 100)
        return cls(net, vat, net + vat, rate)

    def __neg__(self) -> VatSplit:
        return VatSplit(-self.net, -self.vat, -self.gross, self.rate)


ZERO = VatSplit(0, 0, 0)


@dataclass(frozen=True, slots=True)
class Price:
    """An amount in cents and whether it was stated incl. or excl. VAT (the basis is kept exact)."""

    cents: int
    basis: Basis
    rate: VatRate = VatRate.STANDARD

    def __post_init__(self) -> None:
        require_cents(self.cents, "price")

    @classmethod
    def gross(cls, cents: int, rate: VatRate = VatRate.STANDARD) -> Price:
        return cls(cents, Basis.GROSS, rate)

    @classmethod
    def net(cls, cents: int, rate: VatRate = VatRate.STANDARD) -> Price:
        return cls(cents, Basis.NET, rate)

    def split(self) -> VatSplit:
        if self.basis is Basis.GROSS:
            return VatSplit.from_gross(self.cents, self.rate)
        return VatSplit.from_net(self.cents, self.rate)

    def times(self, factor: Exact) -> Price:
        """This price scaled (pro rata, quantity) on its own basis, rounded once."""
        return Price(round_half_up(self.cents * exact(factor, "factor")), self.basis, self.rate)

    def __neg__(self) -> Price:
        return Price(-self.cents, self.basis, self.rate)


_EUR = re.compile(r"^(-?)(\d{1,9})(?:[.,](\d{1,2}))?$")


def eur(text: str) -> int:
    """'7.50' or '7,50' as 750 cents; more than two decimals or anything else is refused."""
    match = _EUR.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise BillingError(f"not a euro amount with at most 2 decimals: {text!r}")
    sign, whole, frac = match.groups()
    cents = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
    return -cents if sign else cents


def format_eur(cents: int) -> str:
    """Dutch notation: 123456 → '€ 1.234,56', -750 → '-€ 7,50'."""
    require_cents(cents)
    whole, rest = divmod(abs(cents), 100)
    grouped = f"{whole:,}".replace(",", ".")
    return f"{'-' if cents < 0 else ''}€ {grouped},{rest:02d}"
