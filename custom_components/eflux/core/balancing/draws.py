"""The chargers' own measured draw, as the meters above them must have seen it.

A meter that includes chargers reads household + chargers; the chargers' own samples are taken
off to find the household. Samples and meter readings are not taken at the same moment, so:
- a charging charger not measured yet counts its last limit, as far as the meter can have seen
  it (household.site_loads: not below the household seen before);
- a sample taken before a change of limit had time to show (`tuning.follow_time`) leaves the
  household uncertain by the change (a raise: `assumed`; a decrease: `released`). Within a
  raise's doubt the household seen before holds (household.site_loads), so a meter that already
  sees the raised car does not make the house look bigger by the raise (which used to take the
  raise back in the next pass, 0.1-0.3 s later: raise-then-revert); a decrease is counted as
  made, so the stale sample of a paused car cannot hide a household step;
- while such a raise is unconfirmed (at most `tuning.raise_hold`), nothing else rises or starts
  under the meters that see it: raises are rate-limited per metered circuit, decreases never.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from .inputs import ChargerInput, SiteInputs
from .memo import Draw, DrawHit, PassMemo
from .state import BalancerState, ChargerState
from .topology import CompiledSite


@dataclass(slots=True)
class Draws:
    by_circuit: list[list[float]]  # per circuit (chargers hanging from it) and grid phase
    assumed: list[list[float]] | None = None  # the same for draws not measured (yet)
    released: list[list[float]] | None = None  # the same for decreases not measured yet
    warnings: list[str] = field(default_factory=list)
    # Per circuit: raises below it wait for samples until then (None: nothing waits).
    hold: list[datetime | None] | None = None

    def hold_until(self, chain: tuple[int, ...]) -> datetime | None:
        hold = self.hold
        if hold is None:
            return None
        return min((until for n in chain if (until := hold[n]) is not None), default=None)


def charger_draws(
    cs: CompiledSite, memo: PassMemo, inputs: SiteInputs, state: BalancerState, now: datetime
) -> Draws:
    """The chargers' own draw per circuit and grid phase (validating the inputs): measured, and
    apart from it what the meters may see but the samples do not show yet (module doc)."""
    found = Draws([[0.0, 0.0, 0.0] for _ in cs.site.circuits])
    unmeasured: list[str] = []
    cache = memo.draws
    index_of = cs.charger_index
    tuning = cs.site.tuning
    get_state = state.chargers.get
    for ident, inp in inputs.chargers.items():
        index = index_of.get(ident)
        if index is None:
            raise ValueError(f"input for unknown charger {ident!r}")
        hit = cache[index]
        if hit is None or hit.inp is not inp:
            hit = cache[index] = DrawHit(inp, _draw_of(cs, index, inp))
        contribution = hit.draw
        if isinstance(contribution, str):
            found.warnings.append(contribution)
        elif contribution is not None:
            measured_at = inp.measured_at
            prev = get_state(ident) if measured_at is not None else None
            changed_at = (prev.changed_at or prev.switched_at) if prev is not None else None
            if (
                prev is not None
                and changed_at is not None
                and measured_at is not None
                and measured_at < changed_at + tuning.follow_time
                and cs.metered_above[index]
            ):
                _before_the_change(cs, index, contribution, prev, now, found)
                continue
            draw = found.by_circuit[cs.chains[index][0]]
            for phase, amps in contribution:
                draw[phase] += amps
        elif inp.plugged and cs.metered_above[index] and (prev := get_state(ident)) and prev.on:
            # A session that just started, or a charger between samples: the meter above may
            # already see the car, and counting its draw as household load would pause it
            # again (6 -> 0 -> 6 A flapping).
            unmeasured.append(ident)
            if found.assumed is None:
                found.assumed = [[0.0, 0.0, 0.0] for _ in cs.site.circuits]
            draw = found.assumed[cs.chains[index][0]]
            for phase in prev.grid_phases:
                draw[phase] += prev.target_a
    if unmeasured:
        found.warnings.append(
            f"no measured current from {', '.join(sorted(unmeasured))} yet: their last limit"
            " counts as their draw"
        )
    return found


def _before_the_change(
    cs: CompiledSite,
    index: int,
    contribution: tuple[tuple[int, float], ...],
    prev: ChargerState,
    now: datetime,
    found: Draws,
) -> None:
    """A sample that may predate the last change of limit (see the module doc)."""
    given = prev.target_a if prev.on else 0.0
    changed_at = prev.changed_at or prev.switched_at
    followed = changed_at is not None and now >= changed_at + cs.site.tuning.follow_time
    measured = [0.0, 0.0, 0.0]
    for phase, amps in contribution:
        measured[phase] += amps
    circuit = cs.chains[index][0]
    draw = found.by_circuit[circuit]
    raised = False
    for p in range(3):
        limit = given if p in prev.grid_phases else 0.0
        draw[p] += measured[p]
        if limit > measured[p]:
            if found.assumed is None:
                found.assumed = [[0.0, 0.0, 0.0] for _ in cs.site.circuits]
            found.assumed[circuit][p] += limit - measured[p]
            raised = True
        elif limit < measured[p] and followed:
            draw[p] -= measured[p] - limit  # it has had time to follow: the meter sees it lower
        elif limit < measured[p]:
            if found.released is None:
                found.released = [[0.0, 0.0, 0.0] for _ in cs.site.circuits]
            found.released[circuit][p] += measured[p] - limit
    raised_at = prev.raised_at
    if not (raised and raised_at is not None and raised_at == prev.changed_at):
        return
    until = raised_at + cs.site.tuning.raise_hold
    if until <= now:
        return
    if found.hold is None:
        found.hold = [None] * len(cs.site.circuits)
    circuits = cs.site.circuits
    for node in cs.chains[index]:
        if circuits[node].metered and circuits[node].meter_includes_chargers:
            held = found.hold[node]
            found.hold[node] = until if held is None or until < held else held


def _draw_of(cs: CompiledSite, index: int, inp: ChargerInput) -> Draw:
    """A charger's measured draw per grid phase; a warning if unusable; None if not measured."""
    measured = inp.measured_a
    if measured is None:
        return None
    ident, wiring = cs.site.chargers[index].id, cs.site.chargers[index].wiring
    if len(measured) != len(wiring):
        raise ValueError(
            f"charger {ident!r}: {len(measured)} measured currents for {len(wiring)} phases"
        )
    if not _finite_sum(measured):
        return f"charger {ident}: unusable measured currents {measured!r} ignored"
    return tuple((phase, amps) for phase, amps in zip(wiring, measured, strict=True) if amps > 0)


def _finite_sum(values: tuple[float, ...]) -> bool:
    """All numbers and finite (NaN and ±inf survive a sum, strings make it fail)."""
    try:
        return math.isfinite(sum(values))
    except TypeError:
        return False
