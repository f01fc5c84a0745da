"""1p/3p switching for chargers that can (site.yaml `can_switch_phases`): the user's choice per
charger (auto, 1, 3) and, in auto, when to switch.

A car runs on three phases when the room it could have (or, in the PV modes, the surplus) is at
least 3 x 6 A, and on one phase below that, so that a small budget still charges it: one phase
at 6-16 A instead of nothing. A switch interrupts the charge (the contactor opens, the car
starts again), so: at most one per `interval` (5 minutes by default), none in the first
`grace` of a session, and going up needs `hysteresis_a` more than the minimum on each phase.

The choice becomes the charger's wiring for the balancer (one phase: its first wired phase;
three: all three, no switching of its own), so that the balancer's allocation, the profile's
numberPhases and every safety rule follow it; when three phases stop fitting before the next
switch is allowed, the balancer pauses the car rather than overload anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum

from ..balancing import BalanceResult, Mode, Site
from .plan_capacity import chain, phase_key, plan_limits, reserved_amps


class PhaseMode(StrEnum):
    AUTO = "auto"
    ONE = "1"
    THREE = "3"


class PhaseSwitching:
    def __init__(
        self,
        base: Site,
        *,
        interval: timedelta,
        grace: timedelta,
        hysteresis_a: float = 1.0,
    ) -> None:
        self.base = base
        self.switchable = frozenset(c.id for c in base.chargers if c.can_switch_phases)
        self.interval = interval
        self.grace = grace
        self.hysteresis_a = hysteresis_a
        self.modes: dict[str, PhaseMode] = dict.fromkeys(self.switchable, PhaseMode.AUTO)
        self.running: dict[str, int] = dict.fromkeys(self.switchable, 3)  # phases in force
        self.switched_at: dict[str, datetime] = {}
        self._cache: tuple[Site, tuple[tuple[str, int], ...], Site] | None = None

    def set_mode(self, charger_id: str, mode: PhaseMode | str) -> None:
        """KeyError: the charger cannot switch phases; ValueError: not auto, 1 or 3."""
        if charger_id not in self.switchable:
            raise KeyError(f"charger {charger_id!r} cannot switch phases")
        self.modes[charger_id] = PhaseMode(mode)

    def decide(
        self,
        now: datetime,
        result: BalanceResult,
        mode_of: Callable[[str], Mode],
        session_start: Mapping[str, datetime | None],
    ) -> set[str]:
        """Switch what should switch after this pass; the chargers that did."""
        changed: set[str] = set()
        for ident in self.switchable:
            want = self._wanted(ident, result, mode_of(ident))
            if want == self.running[ident]:
                continue
            forced = self.modes[ident] is not PhaseMode.AUTO
            started = session_start.get(ident)
            if not forced:
                if started is None or now - started < self.grace:
                    continue  # no session, or its first minute: the car settles first
                last = self.switched_at.get(ident)
                if last is not None and now - last < self.interval:
                    continue
            self.running[ident] = want
            self.switched_at[ident] = now
            changed.add(ident)
        return changed

    def _wanted(self, ident: str, result: BalanceResult, mode: Mode) -> int:
        choice = self.modes[ident]
        if choice is not PhaseMode.AUTO:
            return int(choice.value)
        allocation = result.chargers.get(ident)
        if allocation is None:
            return self.running[ident]
        low = 6.0 + (self.hysteresis_a if self.running[ident] == 1 else 0.0)
        if mode in (Mode.PV, Mode.PV_MIN):
            mine = allocation.target_a * len(allocation.grid_phases)
            room = result.site.pv_surplus_a + mine  # summed over the phases
            return 3 if room >= 3 * low else 1
        return 3 if min(self.room(ident, result)) >= low else 1

    def room(self, ident: str, result: BalanceResult) -> list[float]:
        """Amps the charger could have on each of its three wired phases if it gave up what
        it has: the least over every circuit from its own to the grid connection, after the
        household load the last pass saw and what the other chargers were given."""
        charger = next(c for c in self.base.chargers if c.id == ident)
        household = result.state.circuit_base
        others = [c.id for c in self.base.chargers if c.id != ident]
        limits = plan_limits(
            self.base,
            lambda circuit, _q: household.get(circuit, (0.0, 0.0, 0.0)),
            1,
            reserved_amps(self.base, result, others),
        )
        caps = {limit.key: limit.at(0) for limit in limits}
        return [
            min(
                caps[phase_key(circuit.id, int(p))] for circuit in chain(self.base, charger.circuit)
            )
            for p in charger.wiring
        ]

    def apply(self, site: Site) -> Site:
        """`site` with each switchable charger wired as it runs now (the same object when
        nothing changed since the last call)."""
        key = tuple(sorted(self.running.items()))
        if self._cache is not None and self._cache[0] is site and self._cache[1] == key:
            return self._cache[2]
        if not self.switchable:
            return site
        chargers = tuple(
            replace(
                c,
                can_switch_phases=False,
                wiring=c.wiring if self.running[c.id] == 3 else c.wiring[:1],
            )
            if c.id in self.switchable
            else c
            for c in site.chargers
        )
        built = replace(site, chargers=chargers)
        self._cache = (site, key, built)
        return built
