"""A charger that switches between one and three phases (go-e, some 2.0.1 boxes): the car draws
on as many phases as the charging profile in force says (numberPhases), never more than it has.
Each change is recorded in `phase_switches` (time, phases) so a test can count them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .behaviour import SimBehaviour
    from .car import Car
    from .profiles import ProfileBook
    from .transaction import SimTransaction


class PhaseSwitch:
    behaviour: SimBehaviour
    car: Car
    profiles: ProfileBook
    connector_id: int
    transaction: SimTransaction | None
    amps: float
    _phases_now: int | None = None
    _switches: list[tuple[datetime, int]] | None = None

    @property
    def drawing_phases(self) -> int:
        """The phases the car draws on now."""
        if not self.behaviour.switches_phases or self._phases_now is None:
            return self.car.phases
        return min(self.car.phases, self._phases_now)

    @property
    def phase_switches(self) -> list[tuple[datetime, int]]:
        if self._switches is None:
            self._switches = []
        return self._switches

    def note_phases(self, now: datetime) -> None:
        """Follow the profile in force (called as the car's draw is updated)."""
        if not self.behaviour.switches_phases:
            return
        tx = self.transaction
        wanted = self.profiles.phases(self.connector_id, tx.id if tx else None, now)
        if wanted is None or wanted == self._phases_now:
            return
        before = self.drawing_phases
        self._phases_now = wanted
        if self.drawing_phases != before and tx is not None:
            self.phase_switches.append((now, self.drawing_phases))
