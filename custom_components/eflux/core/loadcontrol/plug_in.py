"""What a car plugged into an idle charger may draw before the controller has seen it.

Without a TxDefaultProfile a new session starts at the charger's maximum and stays there until
the next pass gives it a TxProfile: on a tight fuse that moment is an overload. So every idle
charger holds a TxDefaultProfile with what the balancer would admit a new car at right now:
its minimum current while the grid connection has that much free on each of its phases (shared
out among the idle chargers, so simultaneous plug-ins cannot all count on the same room), else
0 A, and 0 A in modes that never start a car at once (off, pv), while others wait for a turn
or while a meter is silent. A charger that rejects 0 A (Wallbox) gets its minimum instead, the
least it accepts.

Only the grid connection's free current is known here (not that of the sub-circuits); the
first pass after the plug-in corrects within a second whatever the default got wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

from ..balancing import BalanceResult, Charger, ChargerStatus, Mode, Reason, Site
from ..central import ChargePointState, quirks_for
from ..config import ChargerBinding
from .sender import Command

_NEVER_AT_ONCE = (Mode.OFF, Mode.PV)
_WAITING = (Reason.PAUSED_NO_CAPACITY, Reason.PAUSED_ROTATION, Reason.WAITING_START_DELAY)


def plug_in_limits(
    idle: Iterable[Charger],
    modes: Mapping[str, Mode],
    result: BalanceResult,
    held: Mapping[str, float],
    rejects_zero: Mapping[str, bool],
    hysteresis_a: float,
) -> dict[str, float]:
    """Amps per idle charger for its TxDefaultProfile. `held` is what each has now (a charger
    at its minimum keeps it down to exactly the room it needs; one at 0 A waits for the
    minimum plus `hysteresis_a`, so a household load around the threshold does not toggle it)."""
    free = list(result.site.available_a)
    # A silent meter leaves the household load unknown: no room can be promised then.
    queue = bool(result.site.meters_lost) or any(
        a.status in (ChargerStatus.PAUSED, ChargerStatus.WAITING) and a.reason in _WAITING
        for a in result.chargers.values()
    )
    limits: dict[str, float] = {}
    for charger in idle:
        low = charger.min_current_a
        phases = [int(p) for p in charger.wiring]
        need = low if held.get(charger.id, 0.0) >= low else low + hysteresis_a
        admit = (
            not queue
            and modes[charger.id] not in _NEVER_AT_ONCE
            and all(free[p] >= need for p in phases)
        )
        if admit:
            for p in phases:
                free[p] -= low
        limits[charger.id] = low if admit or rejects_zero.get(charger.id, False) else 0.0
    return limits


def plug_in_commands(
    site: Site,
    bindings: Mapping[str, ChargerBinding],
    modes: Mapping[str, Mode],
    charge_points: Mapping[str, ChargePointState],
    wanted: Mapping[str, Command | None],
    result: BalanceResult,
) -> dict[str, Command]:
    """The TxDefaultProfile limits to send: for each online charger without a transaction on
    its connector whose last wanted limit differs."""
    idle: list[Charger] = []
    rejects: dict[str, bool] = {}
    for charger in site.chargers:
        binding = bindings[charger.id]
        state = charge_points.get(binding.charge_point_id)
        if state is None or not state.online:
            continue  # sent when it connects (the controller recomputes then)
        connector = state.connectors.get(binding.connector_id)
        if connector is not None and connector.transaction is not None:
            continue  # a session: the balancer's own limit applies
        idle.append(charger)
        rejects[charger.id] = _rejects_zero(state.vendor, state.model)
    held = {c.id: (w.amps if (w := wanted.get(c.id)) is not None else 0.0) for c in idle}
    limits = plug_in_limits(idle, modes, result, held, rejects, site.tuning.hysteresis_a)
    return {
        ident: Command(amps, None, plug_in=True)
        for ident, amps in limits.items()
        if wanted.get(ident) != Command(amps, None, plug_in=True)
    }


@lru_cache(maxsize=256)
def _rejects_zero(vendor: str | None, model: str | None) -> bool:
    return quirks_for(vendor, model).rejects_zero_amps
