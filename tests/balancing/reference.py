"""An independent, deliberately simple model of the site used to check the balancer's answers.

It walks the circuit tree recursively with dictionaries (the balancer uses flat index arrays), so
a mistake in the balancer's bookkeeping does not hide itself in the check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from custom_components.eflux.core.balancing import (
    BalancerState,
    ChargerAllocation,
    ChargerInput,
    Circuit,
    Mode,
    Site,
    SiteInputs,
)

TOLERANCE = 1e-6


def subtree(site: Site, circuit_id: str) -> set[str]:
    """Ids of the circuit and every circuit below it."""
    found = {circuit_id}
    grew = True
    while grew:
        more = {c.id for c in site.circuits if c.parent in found} - found
        grew = bool(more)
        found |= more
    return found


def chargers_below(site: Site, circuit_id: str) -> list[str]:
    below = subtree(site, circuit_id)
    return [c.id for c in site.chargers if c.circuit in below]


def assumed_draw(
    site: Site, inputs: SiteInputs, before: BalancerState | None, circuit_id: str, phase: int
) -> float:
    """The last limits of plugged chargers below `circuit_id` that were charging and have no
    measured current yet (the balancer counts them as drawing that much, see household)."""
    if before is None:
        return 0.0
    total = 0.0
    by_id = {c.id: c for c in site.chargers}
    for ident in chargers_below(site, circuit_id):
        inp, prev = inputs.chargers.get(ident), before.chargers.get(ident)
        if inp is None or not inp.plugged or inp.measured_a is not None or prev is None:
            continue
        if prev.on and phase in prev.grid_phases and phase in by_id[ident].wiring:
            total += prev.target_a
    return total


def net_reading(
    site: Site, inputs: SiteInputs, circuit: Circuit, phase: int, before: BalancerState | None
) -> float:
    """A meter's reading without the chargers' draw: measured, then the assumed draws, but not
    below the household seen before (the last pass's, or without the assumption)."""
    reading = inputs.meters[circuit.id]
    est = reading[phase]
    if not circuit.meter_includes_chargers:
        return est
    est -= own_draw(site, inputs, circuit.id, phase)
    assumed = assumed_draw(site, inputs, before, circuit.id, phase)
    if assumed > 0:
        last = before.circuit_base.get(circuit.id) if before is not None else None
        floor = est if last is None else min(last[phase], est)
        est = max(est - assumed, floor)
    return est


def own_draw(site: Site, inputs: SiteInputs, circuit_id: str, phase: int) -> float:
    total = 0.0
    by_id = {c.id: c for c in site.chargers}
    for ident in chargers_below(site, circuit_id):
        measured = inputs.chargers.get(ident, ChargerInput()).measured_a
        if measured is None:
            continue
        for k, amps in enumerate(measured):
            if by_id[ident].wiring[k] == phase and amps > 0:
                total += amps
    return total


def household(
    site: Site, inputs: SiteInputs, circuit: Circuit, before: BalancerState | None = None
) -> list[float]:
    """Non-charger load on each phase of `circuit` (never negative: export is no capacity)."""
    below = [0.0, 0.0, 0.0]
    for child in site.circuits:
        if child.parent == circuit.id:
            child_load = household(site, inputs, child, before)
            below = [below[p] + child_load[p] for p in range(3)]
    if circuit.metered and inputs.meters.get(circuit.id) is not None:
        for p in range(3):
            below[p] = max(below[p], net_reading(site, inputs, circuit, p, before), 0.0)
    return below


def phase_loads(
    site: Site, allocations: Iterable[ChargerAllocation], charger_ids: Iterable[str]
) -> list[float]:
    wanted = set(charger_ids)
    load = [0.0, 0.0, 0.0]
    for allocation in allocations:
        if allocation.charger_id in wanted and allocation.target_a > 0:
            for p in allocation.grid_phases:
                load[p] += allocation.target_a
    return load


def violations(
    site: Site,
    inputs: SiteInputs,
    allocations: Mapping[str, ChargerAllocation],
    modes: Mapping[str, Mode],
    before: BalancerState | None = None,
) -> list[str]:
    """Every circuit (and the static budget) whose limit minus margin is exceeded with chargers
    drawing on it (a household load alone above the fuse is not the chargers' doing)."""
    found = []
    for circuit in site.circuits:
        base = household(site, inputs, circuit, before)
        load = phase_loads(site, allocations.values(), chargers_below(site, circuit.id))
        for p in range(3):
            cap = circuit.limit_a[p] - circuit.margin_a
            if load[p] > 0 and base[p] + load[p] > cap + TOLERANCE:
                found.append(f"{circuit.id} L{p + 1}: {base[p]} + {load[p]} > {cap}")
        if circuit.total_limit_a is not None:
            cap = circuit.total_limit_a - circuit.margin_a
            if sum(load) > 0 and sum(base) + sum(load) > cap + TOLERANCE:
                found.append(f"{circuit.id} total: {sum(base)} + {sum(load)} > {cap}")
    static = [ident for ident, mode in modes.items() if mode is Mode.STATIC]
    load = phase_loads(site, allocations.values(), static)
    root = next(c for c in site.circuits if c.parent is None)
    budget = site.static_budget_a or tuple(x - root.margin_a for x in root.limit_a)
    for p in range(3):
        if load[p] > budget[p] + TOLERANCE:
            found.append(f"static budget L{p + 1}: {load[p]} > {budget[p]}")
    return found
