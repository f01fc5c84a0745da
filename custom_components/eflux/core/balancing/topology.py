"""Validation and compilation of a `Site` into index arrays the balancer walks without lookups.

Constraint ids: the balancer keeps one number per constraint in a flat list. Node `n` (a circuit,
or one of the two virtual pools after the circuits) owns the phase constraints `3n + p`, and the
total constraint `3N + n` (N = number of nodes) when it has a cap on the sum of its phases.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from .result import ChargerAllocation, ChargerStatus, Reason
from .site import (
    IEC_MIN_CURRENT_A,
    Charger,
    Circuit,
    MeterLossPolicy,
    Phase,
    Site,
    SiteConfigError,
)

# Which virtual pool a charger's mode draws from, besides its circuits.
POOL_NONE = 0
POOL_STATIC = 1  # per phase: the static budget
POOL_PV = 2  # total: the exported solar power

EPS = 1e-9  # amps: below this, two currents are the same

# (constraint id, amps it takes per amp offered to the charger)
Membership = tuple[tuple[int, float], ...]


@dataclass(frozen=True, slots=True, eq=False)
class CompiledSite:
    """A validated site with its circuit tree flattened into tuples (build with `compile_site`)."""

    site: Site
    circuit_index: Mapping[str, int]
    charger_index: Mapping[str, int]
    parents: tuple[int, ...]  # -1 for the root
    children: tuple[tuple[int, ...], ...]
    bottom_up: tuple[int, ...]  # every circuit after all of its descendants
    chains: tuple[tuple[int, ...], ...]  # per charger: its circuit, then each ancestor to the root
    metered_above: tuple[bool, ...]  # per charger: a meter that includes chargers sees it
    node_count: int
    static_node: int
    pv_node: int
    has_total: tuple[bool, ...]  # per node
    labels: tuple[str, ...]  # per constraint id: "garage L2", "grid total", "PV surplus"
    limit_reasons: tuple[tuple[Reason, str], ...]  # per constraint id: why a charger stops there
    idle: tuple[ChargerAllocation, ...]  # per charger: its answer while no car is connected
    # An increase smaller than this is held (tuning.hysteresis_a; at least a rounding error).
    hold_below_a: float

    @property
    def root(self) -> int:
        return self.bottom_up[-1]

    def total_cid(self, node: int) -> int:
        return 3 * self.node_count + node

    def members(self, charger: int, grid_phases: tuple[int, ...], pool: int) -> Membership:
        """The constraints a charger loads when it draws on `grid_phases` (a pass keeps one
        tuple per circuit, phases and pool in `PassMemo.members`: see `water_fill`)."""
        nodes = list(self.chains[charger])
        if pool == POOL_STATIC:
            nodes.append(self.static_node)
        width = float(len(grid_phases))
        built: list[tuple[int, float]] = [(3 * n + p, 1.0) for n in nodes for p in grid_phases]
        built += [(self.total_cid(n), width) for n in nodes if self.has_total[n]]
        if pool == POOL_PV:
            built.append((self.total_cid(self.pv_node), width))
        return tuple(built)

    def constraint_label(self, cid: int) -> str:
        """Human name of a constraint: "garage L2", "grid total", "static budget L1"..."""
        return self.labels[cid]


def compile_site(site: Site) -> CompiledSite:
    """Validate `site` (raising `SiteConfigError` naming the key) and flatten it."""
    circuit_index = _index([c.id for c in site.circuits], "circuits")
    charger_index = _index([c.id for c in site.chargers], "chargers")
    _check_site(site)
    parents = tuple(
        -1 if c.parent is None else _parent_index(c.id, c.parent, circuit_index)
        for c in site.circuits
    )
    roots = [i for i, p in enumerate(parents) if p < 0]
    if len(roots) != 1:
        raise SiteConfigError("circuits", f"need exactly one root (the grid), got {len(roots)}")
    children: list[list[int]] = [[] for _ in site.circuits]
    for i, parent in enumerate(parents):
        if parent >= 0:
            children[parent].append(i)
    bottom_up = _post_order(roots[0], children)
    if len(bottom_up) != len(site.circuits):
        cyclic = sorted(site.circuits[i].id for i in set(range(len(parents))) - set(bottom_up))
        raise SiteConfigError("circuits", f"parent links form a cycle: {', '.join(cyclic)}")
    for circuit in site.circuits:
        _check_circuit(circuit)
    chains = []
    for charger in site.chargers:
        key = f"chargers[{charger.id}]"
        if charger.circuit not in circuit_index:
            raise SiteConfigError(f"{key}.circuit", f"unknown circuit {charger.circuit!r}")
        _check_charger(charger, key)
        chain = [circuit_index[charger.circuit]]
        while parents[chain[-1]] >= 0:
            chain.append(parents[chain[-1]])
        for node in chain:
            dead = [p for p in charger.wiring if site.circuits[node].limit_a[p] <= 0]
            if dead:
                raise SiteConfigError(
                    f"{key}.wiring",
                    f"phase {dead[0]} has no capacity in circuit {site.circuits[node].id!r}",
                )
        chains.append(tuple(chain))
    node_count = len(site.circuits) + 2
    has_total = [c.total_limit_a is not None for c in site.circuits] + [False, True]
    names = [c.label for c in site.circuits] + ["static budget", "PV surplus"]
    labels = [f"{names[n]} {Phase(p)}" for n in range(node_count) for p in range(3)]
    labels += [f"{name} total" for name in names[:-1]] + ["PV surplus"]
    static_cids = {3 * (node_count - 2) + p for p in range(3)}
    limit_reasons = [
        (Reason.LIMITED_BY_BUDGET, label)
        if cid in static_cids
        else (Reason.LIMITED_BY_PV, "")
        if label == "PV surplus"
        else (Reason.LIMITED_BY_CIRCUIT, label)
        for cid, label in enumerate(labels)
    ]
    return CompiledSite(
        site=site,
        circuit_index=circuit_index,
        charger_index=charger_index,
        parents=parents,
        children=tuple(tuple(c) for c in children),
        bottom_up=tuple(bottom_up),
        chains=tuple(chains),
        metered_above=tuple(
            any(
                site.circuits[n].metered and site.circuits[n].meter_includes_chargers for n in chain
            )
            for chain in chains
        ),
        node_count=node_count,
        static_node=node_count - 2,
        pv_node=node_count - 1,
        has_total=tuple(has_total),
        labels=tuple(labels),
        limit_reasons=tuple(limit_reasons),
        idle=tuple(
            ChargerAllocation(c.id, 0.0, 0, (), ChargerStatus.IDLE, Reason.NO_CAR)
            for c in site.chargers
        ),
        hold_below_a=max(site.tuning.hysteresis_a - EPS, EPS),
    )


def _index(ids: list[str], key: str) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, ident in enumerate(ids):
        if not isinstance(ident, str) or not ident:
            raise SiteConfigError(f"{key}[{i}].id", "must be a non-empty string")
        if ident in index:
            raise SiteConfigError(f"{key}[{ident}]", "duplicate id")
        index[ident] = i
    return index


def _parent_index(ident: str, parent: str, index: Mapping[str, int]) -> int:
    if parent not in index:
        raise SiteConfigError(f"circuits[{ident}].parent", f"unknown circuit {parent!r}")
    return index[parent]


def _post_order(root: int, children: list[list[int]]) -> list[int]:
    order: list[int] = []
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in children[node])
    return order


def _finite(value: float, key: str, *, minimum: float = 0.0) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value) or value < minimum:
        raise SiteConfigError(key, f"must be a number ≥ {minimum:g}, got {value!r}")


def _three(values: object, key: str) -> None:
    if not isinstance(values, tuple) or len(values) != 3:
        raise SiteConfigError(key, f"must be three amps (L1, L2, L3), got {values!r}")
    for value in values:
        _finite(value, key)


def _check_site(site: Site) -> None:
    _finite(site.voltage_v, "voltage_v", minimum=1.0)
    _finite(site.pv_reserve_a, "pv_reserve_a")
    if site.static_budget_a is not None:
        _three(site.static_budget_a, "static_budget_a")
    tuning = site.tuning
    for name in ("hysteresis_a", "resolution_a", "detect_min_a", "overdraw_tolerance_a"):
        _finite(getattr(tuning, name), f"tuning.{name}")
    if tuning.resolution_a <= 0:
        raise SiteConfigError("tuning.resolution_a", "must be above 0")
    if tuning.ramp_step_a is not None:
        _finite(tuning.ramp_step_a, "tuning.ramp_step_a", minimum=0.1)
    for name in (
        "min_change_interval",
        "start_delay",
        "stop_delay",
        "rotation_interval",
        "phase_switch_delay",
        "meter_loss_window",
        "overdraw_grace",
        "overdraw_pause_after",
        "follow_time",
        "raise_hold",
    ):
        if getattr(tuning, name).total_seconds() < 0:
            raise SiteConfigError(f"tuning.{name}", "must not be negative")


def _check_circuit(circuit: Circuit) -> None:
    key = f"circuits[{circuit.id}]"
    _three(circuit.limit_a, f"{key}.limit_a")
    _finite(circuit.margin_a, f"{key}.margin_a")
    if circuit.margin_a >= max(circuit.limit_a):
        raise SiteConfigError(f"{key}.margin_a", "leaves no capacity on any phase")
    if circuit.total_limit_a is not None:
        _finite(circuit.total_limit_a, f"{key}.total_limit_a")
    fixed = circuit.on_meter_loss is MeterLossPolicy.FIXED_BUDGET
    if fixed and circuit.fallback_budget_a is None:
        raise SiteConfigError(f"{key}.fallback_budget_a", "required by on_meter_loss fixed_budget")
    if circuit.fallback_budget_a is not None:
        _three(circuit.fallback_budget_a, f"{key}.fallback_budget_a")


def _check_charger(charger: Charger, key: str) -> None:
    wiring = charger.wiring
    if not 1 <= len(wiring) <= 3 or len(set(wiring)) != len(wiring):
        raise SiteConfigError(f"{key}.wiring", f"must be 1 to 3 distinct phases, got {wiring!r}")
    if not all(isinstance(p, Phase) for p in wiring):
        raise SiteConfigError(f"{key}.wiring", "phases must be Phase.L1, Phase.L2 or Phase.L3")
    _finite(charger.min_current_a, f"{key}.min_current_a", minimum=IEC_MIN_CURRENT_A)
    _finite(charger.max_current_a, f"{key}.max_current_a", minimum=charger.min_current_a)
    _finite(charger.safe_current_a, f"{key}.safe_current_a")
    if 0 < charger.safe_current_a < charger.min_current_a:
        raise SiteConfigError(
            f"{key}.safe_current_a", "must be 0 (pause) or at least the minimum current"
        )
    if charger.can_switch_phases and len(wiring) != 3:
        raise SiteConfigError(f"{key}.can_switch_phases", "needs a three-phase wiring")
