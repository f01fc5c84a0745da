"""Issue 15's building over two simulated hours, every fault included: no fuse over its limit
longer than the reaction bound, no starved car. The real site (LocalSite: OCPP over websockets,
SQLite, the controller), 20 simulated chargers and an SDM630 over Modbus run in this process
on a loop that skips idle time (sim/scenarios/vtime.py), so the result does not depend on how
busy the machine is. If it fails, the printed summary says which fuse, how long and when.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from sim.scenarios.__main__ import play
from sim.scenarios.spec import load
from sim.scenarios.vtime import run_virtual

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
HOURS = 2


@pytest.mark.xfail(
    reason=(
        "issue 15, open: the car that draws 2 A over its limit sits under garage_a, which has "
        "no meter of its own; its excess counts from its first sample showing it (the grace no "
        "longer delays it: 0 of 4 runs over since, 2 of 8 before), but until that sample (30 s "
        "in the scenario) a full garage_a can still be over its fuse"
    ),
    strict=False,
)
def test_building_holds_every_fuse_through_every_fault(tmp_path: Path) -> None:
    scenario = load("building")
    length = timedelta(hours=HOURS)
    outcome = run_virtual(play(scenario, None, length, tmp_path))
    print(outcome.text)
    j = outcome.judgement
    # every event of the scenario happened and was seen by the site
    faults = {f.kind: f for f in scenario.faults}
    silent_at = faults["meter_silent"].at.total_seconds()
    assert [t for t in outcome.seen["meter stale"] if silent_at < t < silent_at + 30]
    assert [t for t in outcome.seen["meter back"] if silent_at + 30 < t < silent_at + 60]
    offline = faults["charger_offline"]
    gone_at = offline.at.total_seconds()
    assert [t for t in outcome.seen["charger offline"] if gone_at <= t < gone_at + 5]
    back_at = gone_at + offline.length.total_seconds()
    assert [t for t in outcome.seen["charger back"] if back_at <= t < back_at + 60]
    greedy = next(c for c in j.cars if c.id == faults["overdraw"].charger)
    start = faults["overdraw"].at.total_seconds()
    length_s = faults["overdraw"].length.total_seconds()
    during = [a for t, a in greedy.draws if start <= t < start + length_s]
    assert any(a > 0 for a in during), "the over-drawing car never drew during its fault"
    step = j.steps[0]
    assert step.add_a == 20
    assert step.answered_after_s is not None, "nobody answered the household's +20 A step"
    assert sum(car.energy_kwh for car in j.cars) > 20  # the garage really charged
    # the guarantees
    bound = scenario.reaction_bound.total_seconds()
    assert not j.over_bound(bound), outcome.text
    assert not j.starved(scenario.starvation_window.total_seconds()), outcome.text
    assert outcome.ok
