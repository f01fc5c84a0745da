"""An independent, deliberately simple model of the site used to check the balancer's answers.

It walks the circuit tree recursively with dictionaries (the balancer uses flat index arrays), so
a mistake in the balancer's bookkeeping does not hide itself in the check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

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


def as_read(site: Site, inputs: SiteInputs, before: BalancerState) -> SiteInputs:
    """The inputs as the balancer reads them: a plugged charger that was charging and has no
    measured current yet draws its last limit (the meter above already sees it)."""
    chargers = dict(inputs.chargers)
    for charger in site.chargers:
        inp, prev = chargers.get(charger.id), before.chargers.get(charger.id)
        if inp is None or not inp.plugged or inp.measured_a is not None or prev is None:
            continue
        if prev.on:
            assumed = tuple(prev.target_a if p in prev.grid_phases else 0.0 for p in charger.wiring)
            chargers[charger.id] = replace(inp, measured_a=assumed)
    return SiteInputs(inputs.meters, chargers)


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


def household(site: Site, inputs: SiteInputs, circuit: Circuit) -> list[float]:
    """Non-charger load on each phase of `circuit` (never negative: export is no capacity)."""
    below = [0.0, 0.0, 0.0]
    for child in site.circuits:
        if child.parent == circuit.id:
            child_load = household(site, inputs, child)
            below = [below[p] + child_load[p] for p in range(3)]
    reading = inputs.meters.get(circuit.id)
    if circuit.metered and reading is not None:
        for p in range(3):
            est = reading[p]
            if circuit.meter_includes_chargers:
                est -= own_draw(site, inputs, circuit.id, p)
            below[p] = max(below[p], est, 0.0)
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
) -> list[str]:
    """Every circuit (and the static budget) whose limit minus margin is exceeded with chargers
    drawing on it (a household load alone above the fuse is not the chargers' doing)."""
    found = []
    for circuit in site.circuits:
        base = household(site, inputs, circuit)
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
