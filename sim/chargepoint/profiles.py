"""What a charger does with charging profiles: store them, pick the limit that applies now.

Version-neutral: both protocol adapters store `SimProfile`s. Rules as OCPP 1.6 §3.13: per
purpose the valid profile with the highest stack level wins; a ChargePointMax profile caps
everything; a TxProfile beats TxDefault for the transaction it names; same id (or the same
stack level and purpose) replaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .car import NOMINAL_VOLTAGE

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
    transaction_id: str | None = None
    valid_to: datetime | None = None

    def amps(self, car_phases: int) -> float:
        if self.unit == "A":
            return self.limit
        return self.limit / ((self.phases or car_phases) * NOMINAL_VOLTAGE)


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
        valid = [p for p in self.profiles.values() if p.valid_to is None or now < p.valid_to]

        def best(candidates: list[SimProfile]) -> float | None:
            if not candidates:
                return None
            return max(candidates, key=lambda p: p.stack_level).amps(car_phases)

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
