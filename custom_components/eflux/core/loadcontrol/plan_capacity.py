"""What the planner may give the planned cars: per circuit, per phase, per quarter-hour.

Every circuit of the tree has a limit per phase (and maybe a total); the planned cars share what
is left of it after the household forecast of each quarter-hour (`HouseholdHistory`, margin
included) and, in the running quarter, after what the cars without a departure were given in
the last pass. Later quarters do not count on them: a departure that can be met comes before
more power for a car that has none (the lexicographic order of DESIGN §3), so they yield. A metered
circuit's household is its own forecast; an unmetered one carries the forecasts of the metered
circuits below it. A car loads every circuit from its charger's up to the grid connection, on
the grid phases its charger's wiring and its own phase count give it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..balancing import BalanceResult, Charger, Circuit, PhaseAmps, Site
from ..planning import Limit

Forecast = Callable[[str, int], PhaseAmps]  # (metered circuit, quarter index) -> amps


@dataclass(frozen=True, slots=True)
class CarShape:
    """How one planned car draws: its grid phases, the limits it loads, its most power."""

    grid_phases: tuple[int, ...]
    loads: tuple[tuple[str, float], ...]
    max_kw: float


def phase_key(circuit: str, phase: int) -> str:
    return f"{circuit} L{phase + 1}"


def total_key(circuit: str) -> str:
    return f"{circuit} total"


def chain(site: Site, circuit: str) -> list[Circuit]:
    """The circuit and its ancestors up to the grid connection."""
    by_id = {c.id: c for c in site.circuits}
    out: list[Circuit] = []
    node: str | None = circuit
    while node is not None:
        out.append(by_id[node])
        node = by_id[node].parent
    return out


def car_shape(
    site: Site,
    charger: Charger,
    car_phases: int | None,
    seen_phases: tuple[int, ...] | None,
    max_current_a: float,
    car_max_kw: float | None,
) -> CarShape:
    """`car_phases`: what the car profile says (1 or 3); `seen_phases`: the charger phases the
    balancer saw the car draw on. A one-phase car on a three-phase charger draws on its L1."""
    wiring = charger.wiring
    if seen_phases:
        used = tuple(sorted(seen_phases))
    else:
        used = tuple(range(min(len(wiring), car_phases or len(wiring))))
    grid = tuple(sorted(int(wiring[k]) for k in used))
    n = len(grid)
    weight = 1000.0 / (site.voltage_v * n)
    loads: list[tuple[str, float]] = []
    for circuit in chain(site, charger.circuit):
        loads.extend((phase_key(circuit.id, p), weight) for p in grid)
        if circuit.total_limit_a is not None:
            loads.append((total_key(circuit.id), weight * n))
    max_kw = max_current_a * n * site.voltage_v / 1000.0
    if car_max_kw is not None:
        max_kw = min(max_kw, car_max_kw)
    return CarShape(grid, tuple(loads), max_kw)


def reserved_amps(
    site: Site, result: BalanceResult | None, others: Sequence[str]
) -> dict[str, list[float]]:
    """Per circuit and phase: what the chargers that follow no plan were given in the last pass."""
    taken = {c.id: [0.0, 0.0, 0.0] for c in site.circuits}
    if result is None:
        return taken
    chargers = {c.id: c for c in site.chargers}
    for ident in others:
        allocation = result.chargers.get(ident)
        if allocation is None or allocation.target_a <= 0:
            continue
        for circuit in chain(site, chargers[ident].circuit):
            for p in allocation.grid_phases:
                taken[circuit.id][p] += allocation.target_a
    return taken


def plan_limits(
    site: Site, forecast: Forecast, quarters: int, reserved: Mapping[str, Sequence[float]]
) -> list[Limit]:
    """A `Limit` per circuit and phase (and per circuit total) over `quarters` quarter-hours."""
    children: dict[str | None, list[Circuit]] = {}
    for circuit in site.circuits:
        children.setdefault(circuit.parent, []).append(circuit)
    memo: dict[tuple[str, int], PhaseAmps] = {}

    def household(circuit: Circuit, q: int) -> PhaseAmps:
        key = (circuit.id, q)
        if key not in memo:
            if circuit.metered:
                memo[key] = forecast(circuit.id, q)
            else:
                below = [household(c, q) for c in children.get(circuit.id, [])]
                memo[key] = (
                    sum(b[0] for b in below),
                    sum(b[1] for b in below),
                    sum(b[2] for b in below),
                )
        return memo[key]

    limits: list[Limit] = []
    span = range(max(1, quarters))
    for circuit in site.circuits:
        taken = reserved.get(circuit.id, (0.0, 0.0, 0.0))

        def now_only(q: int, amps: float) -> float:
            return amps if q == 0 else 0.0

        for p in range(3):
            room = circuit.limit_a[p] - circuit.margin_a
            values = tuple(
                max(0.0, room - household(circuit, q)[p] - now_only(q, taken[p])) for q in span
            )
            limits.append(Limit(phase_key(circuit.id, p), values))
        if circuit.total_limit_a is not None:
            total = circuit.total_limit_a
            values = tuple(
                max(0.0, total - sum(household(circuit, q)) - now_only(q, sum(taken))) for q in span
            )
            limits.append(Limit(total_key(circuit.id), values))
    return limits
