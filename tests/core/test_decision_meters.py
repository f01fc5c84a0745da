"""The decision log tells a meter's loss only once it had been read (or never was for 10 s):
at every start the first poll is on its way, which is no loss (seen in a real hass log)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from custom_components.eflux.core.balancing import (
    BalancerState,
    Charger,
    ChargerInput,
    Circuit,
    Site,
    SiteInputs,
    balance,
    compile_site,
    per_phase,
)
from custom_components.eflux.core.decisions import DecisionLog

T0 = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)
SITE = compile_site(
    Site(
        circuits=(Circuit("grid", per_phase(25.0), metered=True, name="Grid"),),
        chargers=(Charger("cp", "grid"),),
    )
)


class Passes:
    def __init__(self) -> None:
        self.now = T0
        self.state = BalancerState()
        self.log = DecisionLog(lambda: self.now)

    def run(self, seconds: float, meter: bool) -> list[str]:
        self.now += timedelta(seconds=seconds)
        meters = {"grid": (1.0, 1.0, 1.0)} if meter else {}
        chargers = MappingProxyType({"cp": ChargerInput(plugged=True)})
        result = balance(SITE, SiteInputs(meters, chargers), self.state, self.now)
        self.state = result.state
        self.log.observe(result)
        return [d.kind.value for d in self.log.recent(500) if d.kind.value.startswith("meter")]


def test_a_meter_not_read_yet_at_the_start_is_not_lost() -> None:
    passes = Passes()
    assert passes.run(0, meter=False) == []
    assert passes.run(0.2, meter=True) == []  # its first reading: no "recovered" either
    assert passes.run(5, meter=False) == ["meter_lost"]  # silent after it was read: lost
    assert passes.run(1, meter=True) == ["meter_lost", "meter_recovered"]


def test_a_meter_never_read_is_lost_after_ten_seconds() -> None:
    passes = Passes()
    assert passes.run(0, meter=False) == []
    assert passes.run(9, meter=False) == []
    assert passes.run(1, meter=False) == ["meter_lost"]
    assert passes.run(1, meter=True) == ["meter_lost", "meter_recovered"]
