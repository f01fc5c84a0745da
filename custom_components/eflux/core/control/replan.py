"""The controller's side of the departure planner: when it plans, with which SoCs, power budget
and prices, and what the plan changes in the balancer's inputs.

`Departures` keeps the drivers' requests and the plan; this wires it to the running site: the
SoCs the chargers report, the power the balancer could give the smart cars, and the prices
(tariff, overridden by pushed day-ahead prices). Every change here only marks the plan as due;
the controller re-plans at its next pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from datetime import datetime

from ..balancing import BalanceResult, ChargerInput, Site
from ..central import CentralSystem, ConnectorState
from ..config import ChargerBinding
from ..planning.tariff import PriceEntry
from .departures import Departures
from .inputs import connector_of, measured_soc, with_plan
from .prices import HourPrice


class Replanner:
    def __init__(
        self,
        central: CentralSystem,
        site: Site,
        root: int,
        bindings: Mapping[str, ChargerBinding],
        departures: Departures,
    ) -> None:
        self.departures = departures
        self._central = central
        self._site = site
        self._root = root
        self._bindings = bindings
        self._planned_soc: dict[str, float | None] = {}

    def due(self, now: datetime) -> bool:
        """A plan is owed (something changed, or its interval or slot is over) and there is
        something to plan or an old plan to drop."""
        departures = self.departures
        return departures.due(now) and bool(departures.requests or departures.plan)

    def replan(
        self,
        now: datetime,
        inputs: MutableMapping[str, ChargerInput],
        result: BalanceResult | None,
    ) -> None:
        """Plan the plugged cars and give every charger's input its urgency and planned power."""
        socs = {
            ident: measured_soc(self._connector(ident))
            for ident, inp in inputs.items()
            if inp.plugged
        }
        smart = [i for i in socs if i in self.departures.requests]
        capacity_kw = 0.0
        if result is not None and smart:
            amps = min(result.capacity_for(smart))
            capacity_kw = amps * 3 * self._site.voltage_v / 1000.0
        elif smart:  # no pass yet: the grid connection's limit is all we know
            grid = self._site.circuits[self._root]
            capacity_kw = (min(grid.limit_a) - grid.margin_a) * 3 * self._site.voltage_v / 1000.0
        self.departures.replan(now, socs, capacity_kw)
        for ident, inp in list(inputs.items()):
            inputs[ident] = with_plan(
                inp, self.departures.urgency_kw(ident, now), self.departures.planned_w(ident, now)
            )

    def session_changed(self) -> None:
        """A transaction started or ended: the plugged cars changed."""
        self.departures.planned_at = None

    def soc_changed(self, idents: Iterable[str]) -> None:
        """A planned car whose SoC changed (or became known) is planned again."""
        for ident in idents:
            if ident in self.departures.requests:
                soc = measured_soc(self._connector(ident))
                if soc != self._planned_soc.get(ident):
                    self._planned_soc[ident] = soc
                    self.departures.planned_at = None

    def push_prices(
        self, entries: Sequence[PriceEntry] | None, now: datetime, *, replace: bool = False
    ) -> int:
        return self.departures.push_prices(entries, now, replace=replace)

    def price_table(self, now: datetime) -> list[HourPrice]:
        return self.departures.prices.table(now)

    def price_now(self, now: datetime) -> HourPrice:
        """The price the planner uses for the hour `now` is in."""
        return self.departures.prices.table(now, hours=1)[0]

    def _connector(self, ident: str) -> ConnectorState | None:
        binding = self._bindings[ident]
        return connector_of(self._central.charge_points().get(binding.charge_point_id), binding)
