"""Warnings about a site.yaml that is valid but probably not what the installer meant.

A circuit whose limit is above its parent's is allowed (the balancer keeps every circuit on the
path to the grid within its own limit, so the parent's fuse still holds), but it usually means a
typo or a sub-distribution drawn wrongly, and the circuit will never get its own limit.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..balancing import Circuit

_PHASE_NAMES = ("L1", "L2", "L3")


def circuit_warnings(circuits: Sequence[Circuit]) -> tuple[str, ...]:
    """One message per circuit whose limit exceeds its parent's on some phase or in total."""
    by_id = {c.id: c for c in circuits}
    found: list[str] = []
    for circuit in circuits:
        parent = by_id.get(circuit.parent) if circuit.parent is not None else None
        if parent is None:
            continue
        over = [
            f"{_PHASE_NAMES[i]} {own:g} A > {theirs:g} A"
            for i, (own, theirs) in enumerate(zip(circuit.limit_a, parent.limit_a, strict=True))
            if own > theirs
        ]
        own_total, parent_total = circuit.total_limit_a, parent.total_limit_a
        if own_total is not None and parent_total is not None and own_total > parent_total:
            over.append(f"total {own_total:g} A > {parent_total:g} A")
        if over:
            found.append(
                f"circuits[{circuit.id}].limit_a is above its parent {parent.id!r}'s"
                f" ({', '.join(over)}): the parent's limit is what holds"
            )
    return tuple(found)
