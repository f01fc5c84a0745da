"""The controller's live limits: circuit overrides, the capacity tariff's running budget and the
phases switchable chargers run on, as one site for the balancer (recompiled only when a limit
really moves) and one for the planner."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from ..balancing import PhaseAmps, Site
from ..config import PlannerSettings
from .capacity_tariff import CapacityTariffMeter, TariffStatus
from .circuit_limits import CircuitLimits
from .phase_switch import PhaseSwitching

BUDGET_STEP_A = 0.5  # the tariff's budget moves the balancer's limit in steps of this


class SiteLimits:
    def __init__(self, base: Site, settings: PlannerSettings) -> None:
        self.circuits = CircuitLimits(base)
        self.phases = PhaseSwitching(
            base, interval=settings.phase_switch_interval, grace=settings.phase_switch_grace
        )
        tariff = settings.capacity_tariff
        self.tariff: CapacityTariffMeter | None = None
        if tariff is not None:
            zone = ZoneInfo(settings.timezone or "UTC")
            self.tariff = CapacityTariffMeter(
                tariff.circuit, tariff.target_kw, base.voltage_v, zone
            )

    def balancing_site(self) -> Site:
        """The site the balancer runs with: overrides, the tariff's budget, the phases the
        switchable chargers run on."""
        return self.phases.apply(self.circuits.site())

    def observe(self, circuit: str, amps: PhaseAmps | None, now: datetime) -> bool:
        """A meter reading; True when the balancer's site changes (the tariff's budget moved)."""
        tariff = self.tariff
        if tariff is None or circuit != tariff.circuit or amps is None:
            return False
        tariff.observe(amps, now)
        return self.update_budget(now)

    def update_budget(self, now: datetime) -> bool:
        tariff = self.tariff
        if tariff is None:
            return False
        budget = math.floor(tariff.status(now).budget_a / BUDGET_STEP_A) * BUDGET_STEP_A
        old = self.circuits.tariff.get(tariff.circuit)
        if old is not None and abs(budget - old) < BUDGET_STEP_A - 1e-9:
            return False
        self.circuits.tariff[tariff.circuit] = budget
        return True

    def status(self, now: datetime) -> TariffStatus | None:
        return self.tariff.status(now) if self.tariff is not None else None
