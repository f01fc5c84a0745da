"""Plans and the fixed fees of the terms.

Consumer prices are stated incl. VAT (Dutch law requires consumer prices incl. VAT), so the
fees the terms name without "excl. btw" (€45 transfer, €15 prepaid admin) are taken as gross.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from .errors import BillingError
from .money import Price

# Fees named in the terms (article in the comment).
SWITCH_FEE = Price.gross(750)  # 12.2: switching plan form costs €7.50 incl. VAT
IDLE_FEE = Price.gross(625)  # 12.2: €6.25 incl. VAT per month without kWh on a no-fee plan
LOST_CARD_REPLACEMENT_FEE = Price.gross(750)  # 21.6 / FAQ: new card after loss, €7.50 once
TRANSFER_FEE = Price.gross(4500)  # 12.2 "Verhuizen": contract transfer, €45 admin costs
PREPAID_TERMINATION_FEE = Price.gross(1500)  # 10.11: €15 admin costs on termination
MISUSE_ADMIN_MINIMUM = Price.net(4000)  # 8.2: costs + admin of at least €40 excl. VAT
MISUSE_DATA_PER_MB = Price.net(150)  # 8.2: €1.50 excl. VAT per MB over the bundle by misuse
LATE_PAYMENT_MINIMUM_CENTS = 4000  # 10.4: interest 1 %/month with a €40 minimum
PREPAID_MINIMUM_START_CENTS = 1000  # 10.9: a session needs at least €10 balance

NO_FEE = Price.gross(0)
OFFERED_DURATIONS_YEARS = (1, 2, 3)  # FAQ: charge-point subscriptions run 1, 2 or 3 years


class PlanKind(StrEnum):
    CHARGE_POINT = "charge_point"  # management subscription for a charge point (Beheersysteem)
    CARD = "card"  # charge-card subscription (bundle or pay-per-use)
    PREPAID = "prepaid"  # prepaid card: no subscription, indefinite from first use

    @property
    def minimum_term_months(self) -> int:
        """Art. 5: 12 months charge point, 1 month card, none for prepaid."""
        return {PlanKind.CHARGE_POINT: 12, PlanKind.CARD: 1, PlanKind.PREPAID: 0}[self]


class PlanForm(StrEnum):
    FIXED = "fixed"  # a fixed monthly fee
    FLEXIBLE = "flexible"  # no fixed monthly fee (then the idle-fee rule of art. 12.2 applies)


@dataclass(frozen=True, slots=True)
class Bundle:
    """What a card plan's monthly fee includes, per whole month (art. 22.1)."""

    energy_wh: int = 0  # kWh at normal (AC) chargers, in Wh
    connected_minutes: int = 0  # "connectiviteitsuren", kept in minutes
    fast_energy_wh: int = 0  # kWh at fast (DC) chargers, in Wh

    def __post_init__(self) -> None:
        for name in ("energy_wh", "connected_minutes", "fast_energy_wh"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise BillingError(f"bundle {name} must be a non-negative int, got {value!r}")


@dataclass(frozen=True, slots=True)
class OverageRates:
    """E-Flux tariffs for use beyond the bundle, in cents incl. VAT (art. 22.1 b)."""

    per_kwh_cents: Decimal = Decimal(0)
    per_connected_hour_cents: Decimal = Decimal(0)
    per_fast_kwh_cents: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Plan:
    code: str
    name: str
    kind: PlanKind
    form: PlanForm
    monthly_fee: Price = NO_FEE
    bundle: Bundle | None = None
    overage: OverageRates = field(default_factory=OverageRates)
    duration_years: int | None = None  # charge-point plans: 1, 2 or 3 years

    def __post_init__(self) -> None:
        if not self.code:
            raise BillingError("a plan needs a code")
        if self.monthly_fee.cents < 0:
            raise BillingError(f"plan {self.code}: monthly fee must not be negative")
        if self.form is PlanForm.FLEXIBLE and self.monthly_fee.cents:
            raise BillingError(f"plan {self.code}: a flexible plan has no fixed monthly fee")
        if (
            self.form is PlanForm.FIXED
            and self.kind is not PlanKind.PREPAID
            and not (self.monthly_fee.cents)
        ):
            raise BillingError(f"plan {self.code}: a fixed plan needs a monthly fee")
        if self.bundle is not None and self.kind is not PlanKind.CARD:
            raise BillingError(f"plan {self.code}: only card plans have a bundle")
        if self.duration_years is not None and (
            self.kind is not PlanKind.CHARGE_POINT
            or self.duration_years not in OFFERED_DURATIONS_YEARS
        ):
            raise BillingError(
                f"plan {self.code}: durations of {OFFERED_DURATIONS_YEARS} years are offered "
                "for charge-point plans only"
            )

    @property
    def minimum_term_months(self) -> int:
        """Art. 5, extended by a chosen fixed duration of 1, 2 or 3 years."""
        if self.duration_years is not None:
            return 12 * self.duration_years
        return self.kind.minimum_term_months

    @property
    def has_fixed_fee(self) -> bool:
        return self.monthly_fee.cents > 0
