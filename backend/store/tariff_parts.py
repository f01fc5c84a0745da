"""A tariff as the store keeps it: exact decimal text per part, and its VAT basis.

The same four values live on `tariffs` rows (column `basis`) and are copied onto each session
(column `tariff_basis`) when it is stored, so that a later change of the charge point's tariff
never reprices a session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class TariffParts:
    start_cents: str = "0"
    per_kwh_cents: str = "0"
    per_minute_cents: str = "0"
    basis: str = "incl_vat"  # incl_vat or excl_vat (backend.billing.money.Basis)

    @classmethod
    def of_tariff_row(cls, row: Mapping[str, Any]) -> TariffParts:
        """From a `tariffs` row (or a query naming the columns alike)."""
        return cls(
            start_cents=str(row["start_cents"]),
            per_kwh_cents=str(row["per_kwh_cents"]),
            per_minute_cents=str(row["per_minute_cents"]),
            basis=str(row["basis"]),
        )

    @classmethod
    def of_session_row(cls, row: Mapping[str, Any]) -> TariffParts:
        """From a `sessions` row: the tariff copied onto the session when it was stored."""
        return cls(
            start_cents=str(row["start_cents"]),
            per_kwh_cents=str(row["per_kwh_cents"]),
            per_minute_cents=str(row["per_minute_cents"]),
            basis=str(row["tariff_basis"]),
        )

    @classmethod
    def of_decimals(
        cls,
        start_cents: Decimal,
        per_kwh_cents: Decimal,
        per_minute_cents: Decimal,
        basis: str = "incl_vat",
    ) -> TariffParts:
        return cls(
            start_cents=str(start_cents),
            per_kwh_cents=str(per_kwh_cents),
            per_minute_cents=str(per_minute_cents),
            basis=basis,
        )

    def columns(self) -> tuple[str, str, str, str]:
        """The values in the order of the `sessions` columns start_cents … tariff_basis."""
        return (self.start_cents, self.per_kwh_cents, self.per_minute_cents, self.basis)


ZERO = TariffParts()
