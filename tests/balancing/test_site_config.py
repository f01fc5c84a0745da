"""Invalid sites are refused with the key and the reason; valid ones compile."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from custom_components.eflux.core.balancing import (
    Charger,
    Circuit,
    MeterLossPolicy,
    Phase,
    Site,
    SiteConfigError,
    Tuning,
    compile_site,
    per_phase,
)

GRID = Circuit("grid", per_phase(25.0), metered=True)
GARAGE = Circuit("garage", per_phase(32.0), parent="grid")
CP = Charger("cp", "garage")
VALID = Site(circuits=(GRID, GARAGE), chargers=(CP,))


def test_a_valid_site_compiles_into_a_tree() -> None:
    compiled = compile_site(VALID)
    assert compiled.root == 0
    assert compiled.chains == ((1, 0),)
    assert compiled.constraint_label(3 * 1 + 1) == "garage L2"


@pytest.mark.parametrize(
    ("site", "key", "reason"),
    [
        (replace(VALID, circuits=(GRID, GRID)), "circuits[grid]", "duplicate id"),
        (replace(VALID, chargers=(CP, CP)), "chargers[cp]", "duplicate id"),
        (replace(VALID, circuits=(GRID, replace(GARAGE, id=""))), "circuits[1].id", "non-empty"),
        (
            replace(VALID, circuits=(GRID, replace(GARAGE, parent=None))),
            "circuits",
            "exactly one root",
        ),
        (
            replace(VALID, circuits=(GRID, replace(GARAGE, parent="attic"))),
            "circuits[garage].parent",
            "unknown circuit 'attic'",
        ),
        (
            replace(
                VALID,
                circuits=(
                    GRID,
                    replace(GARAGE, parent="floor"),
                    Circuit("floor", per_phase(40.0), parent="garage"),
                ),
            ),
            "circuits",
            "cycle",
        ),
        (
            replace(VALID, circuits=(replace(GRID, limit_a=(25.0, -1.0, 25.0)), GARAGE)),
            "circuits[grid].limit_a",
            "≥ 0",
        ),
        (
            replace(VALID, circuits=(replace(GRID, limit_a=(25.0, float("nan"), 25.0)), GARAGE)),
            "circuits[grid].limit_a",
            "nan",
        ),
        (
            replace(VALID, circuits=(replace(GRID, limit_a=(25.0, 25.0)), GARAGE)),  # type: ignore[arg-type]
            "circuits[grid].limit_a",
            "three amps",
        ),
        (
            replace(VALID, circuits=(replace(GRID, margin_a=25.0), GARAGE)),
            "circuits[grid].margin_a",
            "no capacity",
        ),
        (
            replace(
                VALID,
                circuits=(replace(GRID, on_meter_loss=MeterLossPolicy.FIXED_BUDGET), GARAGE),
            ),
            "circuits[grid].fallback_budget_a",
            "required",
        ),
        (
            replace(VALID, chargers=(replace(CP, circuit="attic"),)),
            "chargers[cp].circuit",
            "unknown circuit",
        ),
        (
            replace(VALID, chargers=(replace(CP, wiring=(Phase.L1, Phase.L1)),)),
            "chargers[cp].wiring",
            "distinct",
        ),
        (
            replace(VALID, chargers=(replace(CP, wiring=()),)),
            "chargers[cp].wiring",
            "1 to 3",
        ),
        (
            replace(VALID, chargers=(replace(CP, min_current_a=5.0),)),
            "chargers[cp].min_current_a",
            "≥ 6",
        ),
        (
            replace(VALID, chargers=(replace(CP, max_current_a=5.0),)),
            "chargers[cp].max_current_a",
            "≥ 6",
        ),
        (
            replace(VALID, chargers=(replace(CP, safe_current_a=3.0),)),
            "chargers[cp].safe_current_a",
            "0 (pause) or at least",
        ),
        (
            replace(VALID, chargers=(replace(CP, wiring=(Phase.L2,), can_switch_phases=True),)),
            "chargers[cp].can_switch_phases",
            "three-phase",
        ),
        (
            replace(VALID, circuits=(replace(GRID, limit_a=(40.0, 0.0, 0.0)), GARAGE)),
            "chargers[cp].wiring",
            "phase L2 has no capacity in circuit 'grid'",
        ),
        (replace(VALID, tuning=Tuning(resolution_a=0.0)), "tuning.resolution_a", "above 0"),
        (
            replace(VALID, tuning=Tuning(start_delay=timedelta(seconds=-1))),
            "tuning.start_delay",
            "negative",
        ),
        (replace(VALID, voltage_v=0.0), "voltage_v", "≥ 1"),
        (replace(VALID, static_budget_a=(1.0, 2.0)), "static_budget_a", "three amps"),  # type: ignore[arg-type]
    ],
)
def test_invalid_sites_are_refused_with_key_and_reason(site: Site, key: str, reason: str) -> None:
    with pytest.raises(SiteConfigError) as caught:
        compile_site(site)
    assert caught.value.key == key
    assert reason in caught.value.reason


def test_a_single_phase_connection_with_single_phase_chargers_is_fine() -> None:
    site = Site(
        circuits=(Circuit("grid", (40.0, 0.0, 0.0), metered=True),),
        chargers=(Charger("cp", "grid", wiring=(Phase.L1,), max_current_a=32.0),),
    )
    assert compile_site(site).chains == ((0,),)
