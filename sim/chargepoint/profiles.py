"""What a charger does with charging profiles: store them, pick the limit that applies now.

Version-neutral: both protocol adapters store `SimProfile`s. Rules as OCPP 1.6 §3.13: per
purpose the valid profile with the highest stack level wins; a ChargePointMax profile caps
everything; a TxProfile beats TxDefault for the transaction it names; same id (or the same
stack level and purpose) replaces. An Absolute schedule applies from its startSchedule, each
period from its startPeriod, until its duration (if any) ends; the last period has no end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .car import NOMINAL_VOLTAGE
from .timefmt import parse

CP_MAX = "ChargePointMaxProfile"
TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"


@dataclass(frozen=True)
class SimProfile:
    profile_id: int
    connector_id: int
    purpose: str  # 1.6 names; 2.0.1's ChargingStationMaxProfile is stored as CP_MAX
    stack_level: int
    limit: float
    unit: str  # A or W
    phases: int | None = None
    phase_to_use: int | None = None  # 2.0.1, with phases 1
    transaction_id: str | None = None
    valid_to: datetime | None = None
    start_schedule: datetime | None = None  # None: from when it was installed
    later: tuple[tuple[int, float], ...] = ()  # (startPeriod s, limit) after the first period
    duration: int | None = None  # seconds; None: the last period lasts

    @property
    def limits(self) -> tuple[float, ...]:
        return (self.limit, *(limit for _, limit in self.later))

    def limit_at(self, now: datetime) -> float | None:
        """The limit of the period running at `now` (in `unit`); None outside the schedule."""
        if self.valid_to is not None and now >= self.valid_to:
            return None
        if self.start_schedule is None:
            return self.limit
        elapsed = (now - self.start_schedule).total_seconds()
        if elapsed < 0 or (self.duration is not None and elapsed >= self.duration):
            return None
        limit = self.limit
        for start, value in self.later:
            if elapsed >= start:
                limit = value
        return limit

    def edges(self) -> list[datetime]:
        """Moments at which `limit_at` may change."""
        found = [self.valid_to] if self.valid_to is not None else []
        if self.start_schedule is not None:
            offsets = [0, *(start for start, _ in self.later)]
            if self.duration is not None:
                offsets.append(self.duration)
            found += [self.start_schedule + timedelta(seconds=s) for s in offsets]
        return found

    def amps(self, car_phases: int, now: datetime) -> float | None:
        limit = self.limit_at(now)
        if limit is None or self.unit == "A":
            return limit
        return limit / ((self.phases or car_phases) * NOMINAL_VOLTAGE)


class ProfileBook:
    def __init__(self) -> None:
        self.profiles: dict[int, SimProfile] = {}

    def install(self, profile: SimProfile) -> None:
        for key, existing in list(self.profiles.items()):
            same_slot = (
                existing.purpose == profile.purpose
                and existing.stack_level == profile.stack_level
                and existing.connector_id == profile.connector_id
            )
            if same_slot:
                del self.profiles[key]
        self.profiles[profile.profile_id] = profile

    def clear(
        self,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> bool:
        removed = False
        for key, profile in list(self.profiles.items()):
            if (
                (profile_id is None or profile.profile_id == profile_id)
                and (connector_id is None or profile.connector_id == connector_id)
                and (purpose is None or profile.purpose == purpose)
                and (stack_level is None or profile.stack_level == stack_level)
            ):
                del self.profiles[key]
                removed = True
        return removed

    def drop_transaction(self, transaction_id: str) -> None:
        """TxProfiles end with their transaction."""
        self.clear_if(lambda p: p.purpose == TX and p.transaction_id == transaction_id)

    def clear_if(self, predicate: object) -> None:
        for key, profile in list(self.profiles.items()):
            if callable(predicate) and predicate(profile):
                del self.profiles[key]

    def limit(
        self, connector_id: int, transaction_id: str | None, now: datetime, car_phases: int
    ) -> float | None:
        """Amps per phase allowed on the connector now; None when no profile applies."""
        valid = [p for p in self.profiles.values() if p.limit_at(now) is not None]

        def best(candidates: list[SimProfile]) -> float | None:
            if not candidates:
                return None
            return max(candidates, key=lambda p: p.stack_level).amps(car_phases, now)

        tx_limit = None
        if transaction_id is not None:
            tx_limit = best(
                [
                    p
                    for p in valid
                    if p.purpose == TX
                    and p.transaction_id in (None, transaction_id)
                    and p.connector_id == connector_id
                ]
            )
        if tx_limit is None:
            own = [p for p in valid if p.purpose == TX_DEFAULT and p.connector_id == connector_id]
            tx_limit = (
                best(own)
                if own
                else best([p for p in valid if p.purpose == TX_DEFAULT and p.connector_id == 0])
            )
        cap = best([p for p in valid if p.purpose == CP_MAX])
        limits = [value for value in (tx_limit, cap) if value is not None]
        return min(limits) if limits else None

    def phases(self, connector_id: int, transaction_id: str | None, now: datetime) -> int | None:
        """numberPhases of the Tx (else TxDefault) profile in force on the connector."""
        valid = [
            p
            for p in self.profiles.values()
            if p.limit_at(now) is not None and p.connector_id in (0, connector_id)
        ]
        for purpose in (TX, TX_DEFAULT):
            mine = [
                p
                for p in valid
                if p.purpose == purpose
                and (purpose != TX or p.transaction_id in (None, transaction_id))
            ]
            if mine and (purpose != TX or transaction_id is not None):
                return max(mine, key=lambda p: (p.connector_id, p.stack_level)).phases
        return None

    def edges(self, start: datetime, end: datetime) -> list[datetime]:
        """`start` and every moment in (start, end) at which some profile may change."""
        inside = {e for p in self.profiles.values() for e in p.edges() if start < e < end}
        return [start, *sorted(inside)]


def schedule_fields(schedule: dict[str, Any]) -> dict[str, Any]:
    """SimProfile fields from a chargingSchedule as the library hands it over (snake_case)."""
    first, *rest = schedule["charging_schedule_period"]
    start = schedule.get("start_schedule")
    return {
        "limit": float(first["limit"]),
        "unit": schedule["charging_rate_unit"],
        "phases": first.get("number_phases"),
        "phase_to_use": first.get("phase_to_use"),
        "start_schedule": parse(start) if start else None,
        "later": tuple((int(p["start_period"]), float(p["limit"])) for p in rest),
        "duration": schedule.get("duration"),
    }


def composite(limit_at: Callable[[datetime], float], edges: list[datetime]) -> list[dict[str, Any]]:
    """GetCompositeSchedule periods (amps, seconds from the first edge): what the charger
    will offer over the asked duration, one period per change."""
    periods: list[dict[str, Any]] = []
    for edge in edges:
        limit = round(limit_at(edge), 1)
        if not periods or periods[-1]["limit"] != limit:
            offset = int((edge - edges[0]).total_seconds())
            periods.append({"start_period": offset, "limit": limit})
    return periods
