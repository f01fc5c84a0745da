"""Helpers for controller tests: a small site, and what a simulated charger was told."""

from __future__ import annotations

from typing import Any

from custom_components.eflux.core.balancing import Charger, Circuit, Phase, Site, Tuning, per_phase
from sim.chargepoint import SimChargePoint

# No ramp and no hysteresis: every pass gives the ideal allocation, which keeps numbers readable.
DIRECT = Tuning(ramp_step_a=None, hysteresis_a=0.0)


def garage_site(*ids: str, fuse_a: float = 25.0, tuning: Tuning = DIRECT, **charger: Any) -> Site:
    """A metered grid connection with three-phase 16 A chargers hanging from it."""
    return Site(
        circuits=(Circuit("grid", per_phase(fuse_a), metered=True),),
        chargers=tuple(Charger(i, "grid", **charger) for i in ids),
        tuning=tuning,
    )


def single_phase_site(ident: str) -> Site:
    return Site(
        circuits=(Circuit("grid", per_phase(25.0), metered=True),),
        chargers=(Charger(ident, "grid", wiring=(Phase.L2,)),),
        tuning=DIRECT,
    )


def profiles(sim: SimChargePoint, purpose: str | None = None) -> list[dict[str, Any]]:
    """Charging profiles the central system sent, oldest first (both OCPP versions)."""
    found = []
    for payload in sim.calls("SetChargingProfile"):
        profile = payload.get("csChargingProfiles") or payload.get("chargingProfile") or {}
        if purpose is None or profile.get("chargingProfilePurpose") == purpose:
            found.append(profile)
    return found


def limit_of(profile: dict[str, Any]) -> float:
    schedule = profile["chargingSchedule"]
    if isinstance(schedule, list):  # 2.0.1: a list of schedules
        schedule = schedule[0]
    return float(schedule["chargingSchedulePeriod"][0]["limit"])


def dynamic_limits(sim: SimChargePoint) -> list[float]:
    """Limits of the Tx/TxDefault profiles sent, oldest first."""
    return [
        limit_of(p)
        for p in profiles(sim)
        if p.get("chargingProfilePurpose") in ("TxProfile", "TxDefaultProfile")
    ]


def last_limit(sim: SimChargePoint) -> float | None:
    limits = dynamic_limits(sim)
    return limits[-1] if limits else None
