"""Charging limits as OCPP charging profiles, version-neutral until the last step.

DESIGN §6: 1.6 `ChargePointMaxProfile` only on connector 0; `TxProfile` needs a running
transaction; the highest valid stack level wins and the same level + purpose replaces; `A` is
per phase and `W` the total; one decimal at most. The quirks table bends these per brand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

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
    # Periods after the first: (seconds after start_schedule, limit in `unit`), kept for good.
    later: tuple[tuple[int, float], ...] = ()
    # 2.0.1, with phases 1 on a charger that switches phases: which of its phases (1-3).
    phase_to_use: int | None = None

    def wire_periods(self) -> list[dict[str, Any]]:
        """`chargingSchedulePeriod` as both OCPP versions spell it."""
        periods = []
        for start, limit in ((0, self.limit), *self.later):
            period: dict[str, Any] = {"startPeriod": start, "limit": limit}
            if self.phases is not None:
                period["numberPhases"] = self.phases
            if self.phase_to_use is not None and self.phases == 1:
                period["phaseToUse"] = self.phase_to_use
            periods.append(period)
        return periods


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
    phase_to_use: int | None = None,
) -> ProfileSpec:
    """The profile that sets `amps` per phase, in a unit and stack level this charger takes."""
    stack_level = wanted_stack_level
    if state.max_stack_level is not None:
        stack_level = min(stack_level, state.max_stack_level)
    if quirks.stack_level_zero_only:
        stack_level = 0
    unit = "A" if "A" in state.allowed_rate_units else "W"
    limit = in_unit(amps, unit, phases, nominal_voltage)
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
        phase_to_use=phase_to_use,
    )


def in_unit(amps: float, unit: str, phases: int | None, nominal_voltage: float) -> float:
    """Amps per phase as a schedule limit in `unit` ("W": the total over the phases)."""
    amps = one_decimal(max(0.0, amps))
    return amps if unit == "A" else one_decimal(amps * (phases or 3) * nominal_voltage)


def takes_fallback_period(state: ChargePointState) -> bool:
    """A second period needs ChargingScheduleMaxPeriods ≥ 2 (unknown: assume it does)."""
    periods = state.max_schedule_periods
    return periods is None or periods >= 2


def with_fallback(
    spec: ProfileSpec, safe_amps: float, after: timedelta, nominal_voltage: float
) -> ProfileSpec:
    """`spec` (no end) dropping to `safe_amps` `after` from now: the charger's dead-man switch.

    The schedule starts SCHEDULE_LEAD early (clock drift), so the switch is that much later in
    it; the last period has no end, so the charger keeps the safe current until renewed."""
    start = int((after + SCHEDULE_LEAD).total_seconds())
    safe = in_unit(safe_amps, spec.unit, spec.phases, nominal_voltage)
    return replace(spec, valid_to=None, later=((start, safe),))
