"""Each circuit and phase against its fuse now, for the Site page.

A metered circuit shows its meter's reading (the grid connection: the site's grid current); an
unmetered one the sum of what the chargers below it draw, per grid phase through their wiring.
The fuse is the configured limit, or a limit set while running (`circuit_limits`) when lower.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...config import SiteConfig
from ...loadcontrol.snapshot import SiteSnapshot


@dataclass(frozen=True, slots=True)
class CircuitNow:
    id: str
    name: str
    depth: int
    load_a: tuple[float, float, float]
    fuse_a: tuple[float, float, float]
    metered: bool

    def percent(self, phase: int) -> int:
        fuse = self.fuse_a[phase]
        return 0 if fuse <= 0 else round(100 * max(0.0, self.load_a[phase]) / fuse)


def circuits_now(config: SiteConfig, snapshot: SiteSnapshot) -> list[CircuitNow]:
    circuits = config.site.circuits
    parents = {c.id: c.parent for c in circuits}
    metered = {m.circuit: m for m in snapshot.meters}
    loads: dict[str, list[float]] = {c.id: [0.0, 0.0, 0.0] for c in circuits}
    for charger in config.site.chargers:
        state = snapshot.chargers.get(charger.id)
        if state is None:
            continue
        for k, phase in enumerate(charger.wiring):
            amps = state.current_a[k] if k < len(state.current_a) else None
            node: str | None = charger.circuit
            while node is not None and amps:
                loads[node][int(phase)] += float(amps)
                node = parents.get(node)
    found = []
    for circuit in circuits:
        load = tuple(loads[circuit.id])
        meter = metered.get(circuit.id)
        if circuit.parent is None:
            load = tuple(float(v or 0.0) for v in snapshot.grid_current_a)
        elif meter is not None and meter.current_a is not None:
            load = tuple(float(v or 0.0) for v in meter.current_a)
        fuse = tuple(float(v) for v in circuit.limit_a)
        override = (snapshot.circuit_limits or {}).get(circuit.id)
        if override and isinstance(override.get("limit_a"), list | tuple):
            fuse = tuple(min(f, float(o)) for f, o in zip(fuse, override["limit_a"], strict=True))
        found.append(
            CircuitNow(
                circuit.id,
                circuit.name or circuit.id,
                _depth(circuit.id, parents),
                (load[0], load[1], load[2]),
                (fuse[0], fuse[1], fuse[2]),
                circuit.parent is None or meter is not None,
            )
        )
    return found


def _depth(ident: str, parents: dict[str, str | None]) -> int:
    depth, node = 0, parents.get(ident)
    while node is not None and depth < 20:
        depth, node = depth + 1, parents.get(node)
    return depth
