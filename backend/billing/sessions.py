"""Charging sessions and their price: start fee + per kWh + per minute (art. 22, 26.3-26.5).

A session belongs to the Amsterdam calendar month in which it *started* (the moment the
service was taken, which is also what the 3-month limit for overage counts from): a session
from 31 January 23:30 to 1 February 01:15 (local) is on the January invoice, and one that starts
at 00:30 on 1 February local (23:30 UTC on 31 January) is on February's. Local time decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from .calendar import Month, local_date, require_aware
from .errors import BillingError
from .money import Basis, Price, exact, round_ratio


class Network(StrEnum):
    OWN = "own"  # E-Flux network / partner network (art. 22): bundles apply
    ROAMING = "roaming"  # another operator's charge point: passed on in full (art. 26.3)
    HOME = "home"  # the customer's own charge point: energy on their own meter, not billed


@dataclass(frozen=True, slots=True)
class SessionTariff:
    """A charge point's tariff in cents (fractions of a cent allowed), incl. or excl. VAT."""

    start_cents: Decimal = Decimal(0)
    per_kwh_cents: Decimal = Decimal(0)
    per_minute_cents: Decimal = Decimal(0)
    basis: Basis = Basis.GROSS

    # The components as exact fractions, converted once (a run prices millions of sessions).
    _exact: tuple[Fraction, Fraction, Fraction] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        parts = tuple(
            exact(getattr(self, name), name)
            for name in ("start_cents", "per_kwh_cents", "per_minute_cents")
        )
        if min(parts) < 0:
            raise BillingError("tariff components must not be negative")
        object.__setattr__(self, "_exact", parts)

    def cost(self, energy_wh: int, duration: timedelta) -> Price:
        """Exact start + kWh + minutes, rounded once to cents (no per-component rounding)."""
        start, per_kwh, per_minute = self._exact
        seconds = round(duration.total_seconds())
        total = start + per_kwh * Fraction(energy_wh, 1000) + per_minute * Fraction(seconds, 60)
        return Price(round_ratio(total.numerator, total.denominator), self.basis)


@dataclass(frozen=True, slots=True)
class ChargingSession:
    id: str
    card_uid: str
    charge_point_id: str
    started_at: datetime
    stopped_at: datetime
    energy_wh: int
    network: Network
    tariff: SessionTariff = SessionTariff()
    fast: bool = False  # a DC fast charger (counts against the fast-charging bundle)
    # Amsterdam day of the start, worked out once: month and day decide which invoice bills it.
    local_day: date = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        require_aware(self.started_at, f"session {self.id} start")
        require_aware(self.stopped_at, f"session {self.id} stop")
        if self.stopped_at < self.started_at:
            raise BillingError(f"session {self.id} stops before it starts")
        if isinstance(self.energy_wh, bool) or not isinstance(self.energy_wh, int):
            raise BillingError(f"session {self.id}: energy must be integer Wh")
        if self.energy_wh < 0:
            raise BillingError(f"session {self.id}: energy must not be negative")
        object.__setattr__(self, "local_day", local_date(self.started_at))

    @property
    def month(self) -> Month:
        return Month(self.local_day.year, self.local_day.month)

    @property
    def duration(self) -> timedelta:
        return self.stopped_at - self.started_at

    @property
    def connected_seconds(self) -> int:
        return round(self.duration.total_seconds())

    def cost(self) -> Price:
        return self.tariff.cost(self.energy_wh, self.duration)
