"""The flexibility price of a plugged car with a stated departure, as the app shows it
("stay until 07:30: €6.12, 25 % off").

The stay runs from the session's start (the plug-in, as the central system recorded it) to the
departure the driver stated; the energy is what the session has delivered so far plus what the
plan still gives the car before it leaves. Until the car is planned (its SoC still unknown, a
plan error) the discount and prices are known but the energy and the total are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from ..central import Transaction
from ..planning import CarPlan, FlexibilityTariff, quote

HOUR_S = Decimal(3600)
KWH_STEP = Decimal("0.001")
STAY_STEP = Decimal("0.01")
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class FlexibilityPrice:
    """JSON: decimal strings (money is never float), times ISO 8601."""

    since: datetime  # the session's start
    departure_at: datetime
    stay_h: Decimal  # hours, two decimals
    percent_off: Decimal
    price_per_kwh: Decimal  # after the discount
    price_per_hour: Decimal  # after the discount
    energy_kwh: Decimal | None  # delivered + planned (None: not planned yet)
    total: Decimal | None  # euros, whole cents (None: the energy is not known yet)


def flexibility_price(
    tariff: FlexibilityTariff | None,
    departure_at: datetime | None,
    tx: Transaction | None,
    car: CarPlan | None,
) -> FlexibilityPrice | None:
    """None without a tariff, a departure or an open session (or a departure before its start)."""
    if tariff is None or departure_at is None or tx is None or not tx.is_open:
        return None
    stay = departure_at - tx.started_at
    if stay < timedelta(0):
        return None
    energy: Decimal | None = None
    if car is not None:
        kwh = tx.energy_wh / 1000.0 + car.energy_planned_kwh
        energy = Decimal(repr(max(0.0, kwh))).quantize(KWH_STEP)
    priced = quote(tariff, stay, energy if energy is not None else Decimal(0))
    return FlexibilityPrice(
        since=tx.started_at,
        departure_at=departure_at,
        stay_h=(Decimal(int(stay.total_seconds())) / HOUR_S).quantize(STAY_STEP),
        percent_off=priced.discount_percent,
        price_per_kwh=_tidy(priced.price_per_kwh),
        price_per_hour=_tidy(priced.price_per_hour),
        energy_kwh=energy,
        total=None if energy is None else Decimal(priced.total_cents).scaleb(-2),
    )


def _tidy(price: Decimal) -> Decimal:
    """0.30 x 75 % is 0.2250: shown as 0.225, but never fewer than two decimals (0.30)."""
    short = price.normalize()
    exponent = short.as_tuple().exponent
    return short if isinstance(exponent, int) and exponent < -2 else price.quantize(CENT)
