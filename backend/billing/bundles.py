"""Bundles: pro rata credit, use in order, overage on a separate invoice (art. 9.2, 22).

- In a started month the bundle is credited pro rata like the fee (same 1/30-per-day fraction,
  rounded half up to whole Wh / seconds); unused credit lapses (art. 22.3: no carry-over).
- Own-network sessions of the month consume the bundle in the order they started; a session
  that crosses the limit is partly inside and partly overage.
- Overage is priced at the plan's overage tariffs and invoiced separately, at most 3 months after
  the use (art. 22.4): overage of a session whose local start day is more than 3 months before
  the invoice date is dropped, and reported, never billed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from .calendar import add_months
from .money import Price, exact, round_half_up
from .plans import Bundle, OverageRates
from .sessions import ChargingSession, Network

OVERAGE_LIMIT_MONTHS = 3


class Component(StrEnum):
    ENERGY = "energy"  # Wh at normal chargers
    CONNECTED = "connected"  # seconds connected
    FAST_ENERGY = "fast_energy"  # Wh at fast chargers

    @property
    def label(self) -> str:
        return {
            Component.ENERGY: "kWh",
            Component.CONNECTED: "h connected",
            Component.FAST_ENERGY: "kWh fast charging",
        }[self]

    @property
    def unit(self) -> str:
        return "h" if self is Component.CONNECTED else "kWh"

    @property
    def per_unit(self) -> int:
        """Raw quantity (Wh or seconds) per priced unit (kWh or hour)."""
        return 3600 if self is Component.CONNECTED else 1000


def allowance(bundle: Bundle, fraction: Fraction) -> dict[Component, int]:
    return {
        Component.ENERGY: round_half_up(bundle.energy_wh * fraction),
        Component.CONNECTED: round_half_up(bundle.connected_minutes * 60 * fraction),
        Component.FAST_ENERGY: round_half_up(bundle.fast_energy_wh * fraction),
    }


def _use(session: ChargingSession) -> dict[Component, int]:
    energy = Component.FAST_ENERGY if session.fast else Component.ENERGY
    return {energy: session.energy_wh, Component.CONNECTED: session.connected_seconds}


@dataclass(frozen=True, slots=True)
class OverageItem:
    session_id: str
    component: Component
    quantity: int  # Wh or seconds beyond the bundle
    used_on: date  # local start day of the session

    @property
    def invoice_deadline(self) -> date:
        return add_months(self.used_on, OVERAGE_LIMIT_MONTHS)


def allocate(
    sessions: Iterable[ChargingSession], credit: dict[Component, int]
) -> list[OverageItem]:
    """What the own-network sessions used beyond `credit`, session by session."""
    left = dict(credit)
    items = []
    own = [s for s in sessions if s.network is Network.OWN]
    for session in sorted(own, key=lambda s: (s.started_at, s.id)):
        for component, used in _use(session).items():
            beyond = max(0, used - left[component])
            left[component] = max(0, left[component] - used)
            if beyond:
                items.append(OverageItem(session.id, component, beyond, session.local_day))
    return items


@dataclass(frozen=True, slots=True)
class OverageCharge:
    component: Component
    quantity: int  # Wh or seconds
    price: Price
    session_ids: tuple[str, ...]

    @property
    def units(self) -> Decimal:
        """Quantity in kWh or hours, for the invoice text (3 decimals)."""
        return (Decimal(self.quantity) / self.component.per_unit).quantize(Decimal("0.001"))


def _rate(rates: OverageRates, component: Component) -> Fraction:
    return exact(
        {
            Component.ENERGY: rates.per_kwh_cents,
            Component.CONNECTED: rates.per_connected_hour_cents,
            Component.FAST_ENERGY: rates.per_fast_kwh_cents,
        }[component]
    )


def price_overage(
    items: Iterable[OverageItem], rates: OverageRates, issued_on: date
) -> tuple[list[OverageCharge], list[OverageItem]]:
    """Charges per component for items still within the 3-month limit, and the expired items."""
    billable: dict[Component, list[OverageItem]] = {}
    expired = []
    for item in items:
        if issued_on > item.invoice_deadline:
            expired.append(item)
        else:
            billable.setdefault(item.component, []).append(item)
    charges = []
    for component in Component:
        group = billable.get(component, [])
        quantity = sum(i.quantity for i in group)
        if not quantity:
            continue
        cents = round_half_up(_rate(rates, component) * Fraction(quantity, component.per_unit))
        ids = tuple(dict.fromkeys(i.session_id for i in group))
        charges.append(OverageCharge(component, quantity, Price.gross(cents), ids))
    return charges, expired


def _totals(sessions: Iterable[ChargingSession]) -> dict[Component, int]:
    totals = dict.fromkeys(Component, 0)
    for session in sessions:
        if session.network is Network.OWN:
            for component, used in _use(session).items():
                totals[component] += used
    return totals


def late_overage(
    on_time: list[ChargingSession],
    late: list[ChargingSession],
    credit: dict[Component, int],
) -> list[OverageItem]:
    """The overage that sessions arriving after their month was invoiced add to that month.

    Per component the month's overage is max(0, use - credit) whatever the order, so the late
    sessions add exactly the difference between the month's overage with and without them; it
    is put on the late sessions, the latest first (they are the use beyond the bundle).
    """
    own_late = [s for s in late if s.network is Network.OWN]
    before, after = _totals(on_time), _totals([*on_time, *own_late])
    items = []
    for component in Component:
        extra = max(0, after[component] - credit[component])
        extra -= max(0, before[component] - credit[component])
        for session in sorted(own_late, key=lambda s: (s.started_at, s.id), reverse=True):
            part = min(extra, _use(session).get(component, 0))
            if part > 0:
                items.append(OverageItem(session.id, component, part, session.local_day))
                extra -= part
    return sorted(items, key=lambda i: (i.used_on, i.session_id, i.component.value))
