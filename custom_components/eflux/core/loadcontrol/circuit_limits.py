"""Circuit limits that change while the site runs: a grid operator's signal (German §14a), a
demand response, or the capacity tariff's running budget.

The configured site stays as it is; an override replaces a circuit's limit per phase (and/or its
total over the phases) until it is cleared or expires. `site()` is the site the balancer runs
with; `planning_site()` the one the planner plans the coming quarter-hours with (a capacity
tariff plans with its target, while the balancer keeps the running quarter under it).

§14a: a signal may dim the chargers, never below 4.2 kW each. With `min_kw_per_charger` the
limit is raised, per phase, to what the chargers below the circuit need for that much (a
three-phase charger 4.2 kW / (3 x 230 V) = 6.1 A on each of its phases). Set such a signal on a
circuit that carries only the chargers: the household is not the operator's to dim.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime

from ..balancing import Circuit, PhaseAmps, Site, SiteConfigError, compile_site


class CircuitLimitError(ValueError):
    """A limit that cannot be set; `field` names the bad part."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CircuitOverride:
    circuit: str
    limit_a: PhaseAmps | None  # None: the configured limit per phase
    total_limit_a: float | None  # None: the configured total
    expires_at: datetime | None
    reason: str
    set_at: datetime


class CircuitLimits:
    def __init__(self, base: Site) -> None:
        self.base = base
        self._circuits = {c.id: c for c in base.circuits}
        self.overrides: dict[str, CircuitOverride] = {}
        self.tariff: dict[str, float] = {}  # circuit -> running total budget (A, capacity tariff)

    def circuit(self, circuit_id: str) -> Circuit:
        try:
            return self._circuits[circuit_id]
        except KeyError:
            raise KeyError(f"unknown circuit {circuit_id!r}") from None

    def set(
        self,
        circuit_id: str,
        now: datetime,
        *,
        limit_a: PhaseAmps | None = None,
        total_limit_a: float | None = None,
        expires_at: datetime | None = None,
        min_kw_per_charger: float | None = None,
        reason: str = "",
    ) -> CircuitOverride:
        circuit = self.circuit(circuit_id)
        if limit_a is None and total_limit_a is None:
            raise CircuitLimitError("limit_a", "give limit_a (per phase) or total_limit_a")
        if limit_a is not None:
            for p, amps in enumerate(limit_a):
                _amps(amps, f"limit_a[{p}]")
            if min_kw_per_charger is not None:
                floor = self._floor(circuit_id, _amps(min_kw_per_charger, "min_kw_per_charger"))
                limit_a = (
                    max(limit_a[0], floor[0]),
                    max(limit_a[1], floor[1]),
                    max(limit_a[2], floor[2]),
                )
            # Never above the fuse: a signal can only lower what the circuit carries. 0 A means
            # nothing for the chargers: it keeps a hair above the margin (they all pause).
            low = circuit.margin_a + 0.1
            limit_a = (
                max(low, min(limit_a[0], circuit.limit_a[0])),
                max(low, min(limit_a[1], circuit.limit_a[1])),
                max(low, min(limit_a[2], circuit.limit_a[2])),
            )
        if total_limit_a is not None:
            _amps(total_limit_a, "total_limit_a")
        if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
            raise CircuitLimitError("expires_at", "must be timezone-aware and in the future")
        override = CircuitOverride(circuit_id, limit_a, total_limit_a, expires_at, reason, now)
        before = self.overrides.get(circuit_id)
        self.overrides[circuit_id] = override
        try:
            compile_site(self.site())
        except SiteConfigError as err:  # nothing of a limit the site cannot run with stays
            if before is None:
                del self.overrides[circuit_id]
            else:
                self.overrides[circuit_id] = before
            raise CircuitLimitError("limit_a", err.reason) from None
        return override

    def clear(self, circuit_id: str) -> bool:
        self.circuit(circuit_id)
        return self.overrides.pop(circuit_id, None) is not None

    def expire(self, now: datetime) -> bool:
        """Drop the overrides that have expired; True when any did."""
        gone = [c for c, o in self.overrides.items() if o.expires_at and o.expires_at <= now]
        for circuit_id in gone:
            del self.overrides[circuit_id]
        return bool(gone)

    def next_expiry(self) -> datetime | None:
        return min((o.expires_at for o in self.overrides.values() if o.expires_at), default=None)

    def site(self) -> Site:
        """What the balancer runs with: overrides and the capacity tariff's running budget."""
        return self._build(self.tariff)

    def planning_site(self) -> Site:
        """What the planner plans with: the overrides (it adds the tariff's target itself)."""
        return self._build({})

    def _build(self, tariff: dict[str, float]) -> Site:
        if not self.overrides and not tariff:
            return self.base
        circuits = []
        for circuit in self.base.circuits:
            override = self.overrides.get(circuit.id)
            if override is not None:
                circuit = replace(
                    circuit,
                    limit_a=override.limit_a or circuit.limit_a,
                    total_limit_a=_lower(circuit.total_limit_a, override.total_limit_a),
                )
            if circuit.id in tariff:
                circuit = replace(
                    circuit, total_limit_a=_lower(circuit.total_limit_a, tariff[circuit.id])
                )
            circuits.append(circuit)
        return replace(self.base, circuits=tuple(circuits))

    def _floor(self, circuit_id: str, kw: float) -> PhaseAmps:
        """Per phase, what the chargers below the circuit need for `kw` each."""
        below = {circuit_id}
        grew = True
        while grew:
            grew = False
            for c in self.base.circuits:
                if c.parent in below and c.id not in below:
                    below.add(c.id)
                    grew = True
        floor = [0.0, 0.0, 0.0]
        for charger in self.base.chargers:
            if charger.circuit in below:
                for phase in charger.wiring:
                    floor[phase] += kw * 1000.0 / (self.base.voltage_v * len(charger.wiring))
        return (floor[0], floor[1], floor[2])


def _lower(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else min(a, b)


def _amps(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CircuitLimitError(field, f"must be a number, got {value!r}")
    if value < 0:
        raise CircuitLimitError(field, f"must be ≥ 0, got {value!r}")
    return float(value)
