"""Charging limits as OCPP charging profiles, version-neutral until the last step.

DESIGN §6: 1.6 `ChargePointMaxProfile` only on connector 0; `TxProfile` needs a running
transaction; the highest valid stack level wins and the same level + purpose replaces; `A` is
per phase and `W` the total; one decimal at most. The quirks table bends these per brand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from .model import ChargePointState
from .quirks import Quirks

TX_PROFILE = "TxProfile"
TX_DEFAULT_PROFILE = "TxDefaultProfile"
CHARGE_POINT_MAX_PROFILE = "ChargePointMaxProfile"
# Chargers' clocks drift: a schedule starting "now" by our clock may still be in their future.
SCHEDULE_LEAD = timedelta(minutes=1)
SAFE_PROFILE_ID = 1


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    profile_id: int
    purpose: str
    stack_level: int
    unit: str  # "A" or "W"
    limit: float
    phases: int | None
    start_schedule: datetime
    transaction_id: str | None = None
    valid_to: datetime | None = None


def one_decimal(value: float) -> float:
    """Round down to 0.1 (a limit must never end up above what was asked)."""
    return math.floor(value * 10 + 1e-9) / 10


def profile_id(purpose: str, connector_id: int) -> int:
    """Stable ids per purpose and connector, so a new limit replaces the previous one."""
    if purpose == CHARGE_POINT_MAX_PROFILE:
        return SAFE_PROFILE_ID
    return (100 if purpose == TX_DEFAULT_PROFILE else 200) + connector_id


def build_limit(
    state: ChargePointState,
    quirks: Quirks,
    *,
    purpose: str,
    connector_id: int,
    amps: float,
    phases: int | None,
    now: datetime,
    wanted_stack_level: int,
    nominal_voltage: float,
    transaction_id: str | None = None,
    valid_for: timedelta | None = None,
) -> ProfileSpec:
    """The profile that sets `amps` per phase, in a unit and stack level this charger takes."""
    stack_level = wanted_stack_level
    if state.max_stack_level is not None:
        stack_level = min(stack_level, state.max_stack_level)
    if quirks.stack_level_zero_only:
        stack_level = 0
    amps = one_decimal(max(0.0, amps))
    unit, limit = "A", amps
    if "A" not in state.allowed_rate_units:
        unit, limit = "W", one_decimal(amps * (phases or 3) * nominal_voltage)
    return ProfileSpec(
        profile_id=profile_id(purpose, connector_id),
        purpose=purpose,
        stack_level=max(0, stack_level),
        unit=unit,
        limit=limit,
        phases=phases,
        start_schedule=now - SCHEDULE_LEAD,
        transaction_id=transaction_id,
        valid_to=now + valid_for if valid_for is not None else None,
    )
