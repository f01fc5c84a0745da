"""A simple car: a battery that takes min(offered current, what the car can take)."""

from __future__ import annotations

from dataclasses import dataclass

NOMINAL_VOLTAGE = 230.0
# IEC 61851: a car cannot charge on less than 6 A per phase; below that it pauses.
MIN_CHARGING_AMPS = 6.0


@dataclass
class Car:
    battery_kwh: float = 60.0
    soc: float = 40.0  # percent
    max_current_a: float = 16.0  # per phase
    phases: int = 3  # 1 or 3
    efficiency: float = 0.92  # grid energy that ends up in the battery
    # A car that takes more than it is offered (a faulty on-board charger): amps above the offer
    overdraw_a: float = 0.0

    @property
    def full(self) -> bool:
        return self.soc >= 100.0

    def current_for(self, offered_a: float) -> float:
        """Amps per phase the car draws when the charger offers `offered_a`."""
        if self.full or offered_a < MIN_CHARGING_AMPS:
            return 0.0
        return round(min(offered_a, self.max_current_a) + self.overdraw_a, 1)

    def charge(self, amps: float, seconds: float, phases: int | None = None) -> float:
        """Draw `amps` per phase on `phases` (default: all the car has) for `seconds`;
        returns the grid energy in Wh."""
        if amps <= 0 or seconds <= 0:
            return 0.0
        wh = amps * (phases or self.phases) * NOMINAL_VOLTAGE * seconds / 3600.0
        stored_kwh = wh / 1000.0 * self.efficiency
        self.soc = min(100.0, self.soc + 100.0 * stored_kwh / self.battery_kwh)
        return wh
