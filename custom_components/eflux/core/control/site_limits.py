"""The controller's live limits: circuit overrides and the capacity tariff's running budget, as
one site for the balancer (recompiled only when a limit really moves) and one for the planner."""

from __future__ import annotations

import math
from datetime import datetime

from ..balancing import PhaseAmps, Site
from ..config import CapacityTariff
from .capacity_tariff import CapacityTariffMeter, TariffStatus
from .circuit_limits import CircuitLimits

BUDGET_STEP_A = 0.5  # the tariff's budget moves the balancer's limit in steps of this


class SiteLimits:
    def __init__(self, base: Site, tariff: CapacityTariff | None) -> None:
        self.circuits = CircuitLimits(base)
        self.tariff: CapacityTariffMeter | None = None
        if tariff is not None:
            self.tariff = CapacityTariffMeter(tariff.circuit, tariff.target_kw, base.voltage_v)

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
