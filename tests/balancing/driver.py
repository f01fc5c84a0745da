"""A small driver for scenario tests: a site, a fake clock, chargers that follow their limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from custom_components.eflux.core.balancing import (
    BalanceResult,
    BalancerState,
    ChargerAllocation,
    ChargerInput,
    CompiledSite,
    PhaseAmps,
    Site,
    SiteInputs,
    balance,
    compile_site,
)

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


class Driver:
    """Runs passes with an injected clock. Chargers draw exactly their limit (measured currents
    follow), and the grid meter reads household plus that draw, like a real P1 meter."""

    def __init__(self, site: Site, house: PhaseAmps = (0.0, 0.0, 0.0)) -> None:
        self.site = site
        self.compiled: CompiledSite = compile_site(site)
        self.state = BalancerState()
        self.now = T0
        self.house = house
        self.inputs: dict[str, ChargerInput] = {}
        self.meters_silent: set[str] = set()
        self.result: BalanceResult | None = None
        self.car_phases: dict[str, tuple[int, ...]] = {}  # charger phases a car really draws on
        self.overdraw: dict[str, float] = {}  # amps a car draws above its limit while charging

    def plug(self, ident: str, **fields: object) -> None:
        self.inputs[ident] = replace(self.inputs.get(ident, ChargerInput()), plugged=True, **fields)  # type: ignore[arg-type]

    def set(self, ident: str, **fields: object) -> None:
        self.inputs[ident] = replace(self.inputs[ident], **fields)  # type: ignore[arg-type]

    def unplug(self, ident: str) -> None:
        self.inputs.pop(ident, None)

    def draw(self) -> dict[str, tuple[float, ...]]:
        """What each charger draws per charger phase, following its last limit."""
        drawn: dict[str, tuple[float, ...]] = {}
        if self.result is None:
            return drawn
        for charger in self.site.chargers:
            allocation = self.result.chargers[charger.id]
            width = len(charger.wiring)
            on = self.car_phases.get(charger.id, tuple(range(allocation.phases)))
            amps = allocation.target_a + self.overdraw.get(charger.id, 0.0)
            drawn[charger.id] = tuple(
                amps if k in on and allocation.target_a > 0 else 0.0 for k in range(width)
            )
        return drawn

    def step(self, seconds: float = 1.0) -> BalanceResult:
        """Advance the clock, read the meters, balance once."""
        if self.result is not None:
            self.now += timedelta(seconds=seconds)
        drawn = self.draw()
        grid = list(self.house)
        for charger in self.site.chargers:
            for k, amps in enumerate(drawn.get(charger.id, ())):
                grid[charger.wiring[k]] += amps
        for ident, inp in self.inputs.items():
            if ident in drawn:
                self.inputs[ident] = replace(inp, measured_a=drawn[ident])
        meters = {
            c.id: (grid[0], grid[1], grid[2])
            for c in self.site.circuits
            if c.metered and c.id not in self.meters_silent
        }
        self.result = balance(
            self.compiled,
            SiteInputs(meters=meters, chargers=dict(self.inputs)),
            self.state,
            self.now,
        )
        self.state = self.result.state
        return self.result

    def run(self, seconds: float, every: float = 1.0) -> list[BalanceResult]:
        results = []
        elapsed = 0.0
        while elapsed < seconds:
            results.append(self.step(every))
            elapsed += every
        return results

    def at(self, ident: str) -> ChargerAllocation:
        """The allocation of charger `ident` in the last pass."""
        assert self.result is not None
        return self.result.chargers[ident]
