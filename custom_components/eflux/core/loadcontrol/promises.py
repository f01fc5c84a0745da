"""Honest promises: what changed in a car's plan, and why, announced the moment it changes.

After every re-plan each car's promise (ready by its departure or not, and when it finishes) is
compared with the one before; a change becomes a `PlanChanged` for the listeners (Home
Assistant fires it as `eflux_plan_changed`). `reason` names what made the planner look again:
plugged_in / unplugged, departure_set, target_set, household_above_forecast,
circuit_limit_changed, capacity_target_raised, prices, slot (the regular re-plan).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..planning import CarPlan

_LOGGER = logging.getLogger(__name__)
SLOT_SLACK = timedelta(minutes=15)  # a finish that moves by less is no news


@dataclass(frozen=True, slots=True)
class PlanChanged:
    charger_id: str
    at: datetime
    reason: str
    ready_by_departure: bool | None  # None: no longer planned
    was_ready: bool | None  # None: not planned before
    expected_finish: datetime | None
    shortfall_kwh: float | None
    departure_at: datetime | None

    @property
    def broken(self) -> bool:
        """A promise to be ready was taken back."""
        return self.was_ready is True and self.ready_by_departure is not True

    def as_dict(self) -> dict[str, object]:
        return {
            "charger_id": self.charger_id,
            "at": self.at.isoformat(),
            "reason": self.reason,
            "ready_by_departure": self.ready_by_departure,
            "was_ready": self.was_ready,
            "broken": self.broken,
            "expected_finish": self.expected_finish.isoformat() if self.expected_finish else None,
            "shortfall_kwh": None if self.shortfall_kwh is None else round(self.shortfall_kwh, 3),
            "departure_at": self.departure_at.isoformat() if self.departure_at else None,
        }


class PlanEvents:
    """Listeners of `PlanChanged`, and the last promise per car."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[PlanChanged], None]] = []
        self._last: dict[str, CarPlan] = {}
        self.recent: list[PlanChanged] = []  # the last 100, newest last

    def add_listener(self, callback: Callable[[PlanChanged], None]) -> Callable[[], None]:
        self._listeners.append(callback)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(callback)

        return remove

    def compare(
        self,
        cars: Mapping[str, CarPlan],
        departures: Mapping[str, datetime],
        reasons: Iterable[str],
        now: datetime,
    ) -> list[PlanChanged]:
        """Announce every car whose promise differs from the last plan's."""
        reason = ",".join(sorted(set(reasons))) or "slot"
        changes: list[PlanChanged] = []
        for ident in sorted(set(cars) | set(self._last)):
            new, old = cars.get(ident), self._last.get(ident)
            if not _differs(old, new):
                continue
            changes.append(
                PlanChanged(
                    charger_id=ident,
                    at=now,
                    reason=reason,
                    ready_by_departure=new.will_make_it if new is not None else None,
                    was_ready=old.will_make_it if old is not None else None,
                    expected_finish=new.expected_finish if new is not None else None,
                    shortfall_kwh=new.shortfall_kwh if new is not None else None,
                    departure_at=departures.get(ident),
                )
            )
        self._last = dict(cars)
        for change in changes:
            level = logging.WARNING if change.broken else logging.INFO
            _LOGGER.log(level, "plan of %s changed (%s): %s", change.charger_id, reason, change)
            self.recent = [*self.recent[-99:], change]
            for callback in list(self._listeners):
                try:
                    callback(change)
                except Exception:
                    _LOGGER.exception("plan listener failed")
        return changes


def _differs(old: CarPlan | None, new: CarPlan | None) -> bool:
    if old is None or new is None:
        return old is not new
    if old.will_make_it != new.will_make_it:
        return True
    if old.energy_needed_kwh <= 1e-6 and new.energy_needed_kwh <= 1e-6:
        return False  # full: its "finish" is always now
    if old.expected_finish is None or new.expected_finish is None:
        return old.expected_finish != new.expected_finish
    return abs(old.expected_finish - new.expected_finish) > SLOT_SLACK
