"""The ChargePointMaxProfile safe limit as a dead-man switch: the charger's own maximum while it
is renewed, the safe current by itself once nobody renews it (DESIGN §3, issue 5)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from custom_components.eflux.core.central import CentralSystem
from sim.chargepoint import SimBehaviour, SimChargePoint

from .conftest import SimFactory
from .support import FakeClock, eventually, iso

pytestmark = pytest.mark.asyncio(loop_scope="module")
LEAD_S = 60  # the schedule starts a minute early (chargers' clocks drift)


def safe_profile(sim: SimChargePoint) -> dict[str, Any]:
    payload = sim.calls("SetChargingProfile")[-1]
    profile: dict[str, Any] = payload.get("csChargingProfiles") or payload["chargingProfile"]
    return profile


def periods(profile: dict[str, Any]) -> list[dict[str, Any]]:
    schedule = profile["chargingSchedule"]
    schedule = schedule[0] if isinstance(schedule, list) else schedule
    return list(schedule["chargingSchedulePeriod"])


async def amps_after(sim: SimChargePoint, clock: FakeClock, **delta: float) -> float:
    clock.advance(**delta)
    sim.advance()
    return sim.amps


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_the_charger_falls_back_to_the_safe_current_when_nobody_renews_it(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock, version: str
) -> None:
    sim = await make_sim(f"SAFE-{version}", version)
    await sim.plug_in("CARD-OK")
    written_at = clock()
    safe = await central.set_safe_limit(sim.id, 6.0, timedelta(minutes=10), normal_amps=16.0)
    profile = safe_profile(sim)
    purpose = "ChargePointMaxProfile" if version == "1.6" else "ChargingStationMaxProfile"
    assert profile["chargingProfilePurpose"] == purpose
    assert "validTo" not in profile  # the safe period must outlive the controller
    assert periods(profile) == [
        {"startPeriod": 0, "limit": 16.0},
        {"startPeriod": 600 + LEAD_S, "limit": 6.0},
    ]
    schedule = profile["chargingSchedule"]
    schedule = schedule[0] if isinstance(schedule, list) else schedule
    assert schedule["startSchedule"] == iso(written_at - timedelta(seconds=LEAD_S))
    assert "duration" not in schedule
    assert (safe.amps, safe.status) == (6.0, "Accepted")
    assert sim.amps == 16.0  # no restriction while it is renewed
    assert await amps_after(sim, clock, minutes=9) == 16.0
    # Renewed at minute 9: the fallback moves to minute 19.
    await central.set_safe_limit(sim.id, 6.0, timedelta(minutes=10), normal_amps=16.0)
    assert await amps_after(sim, clock, minutes=2) == 16.0  # minute 11: still the normal max
    assert await amps_after(sim, clock, minutes=8) == 6.0  # minute 19: nobody renewed it
    clock.advance(days=30)
    assert sim.offered_a() == 6.0  # and it stays there (the car may be full by now)
    await central.set_safe_limit(sim.id, 6.0, timedelta(minutes=10), normal_amps=16.0)
    assert sim.offered_a() == 16.0  # the controller came back


async def test_the_composite_schedule_shows_the_fallback_ahead(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("SAFE-COMPOSITE")
    await sim.plug_in("CARD-OK")
    await central.set_safe_limit(sim.id, 8.0, timedelta(minutes=30), normal_amps=16.0)
    await central.set_current_limit(sim.id, 10.0)
    answer = await central.send(
        sim.id, "GetCompositeSchedule", {"connectorId": 1, "duration": 3600}
    )
    assert answer["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 10.0},  # the TxProfile under the 16 A of the first period
        {"startPeriod": 1800, "limit": 8.0},  # then the safe current caps it
    ]
    clock.advance(minutes=31)
    answer = await central.send(sim.id, "GetCompositeSchedule", {"connectorId": 1, "duration": 60})
    assert answer["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 8.0}
    ]


async def test_abb_gets_its_fallback_at_stack_level_0(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    behaviour = SimBehaviour(rejects_stack_level_above_zero=True)
    abb = await make_sim("SAFE-ABB", vendor="ABB", model="Terra AC W22", behaviour=behaviour)
    await abb.plug_in("CARD-OK")
    safe = await central.set_safe_limit(abb.id, 6.0, timedelta(minutes=5), normal_amps=16.0)
    assert (safe.status, safe_profile(abb)["stackLevel"], len(periods(safe_profile(abb)))) == (
        "Accepted",
        0,
        2,
    )
    assert await amps_after(abb, clock, minutes=6) == 6.0


async def test_a_power_only_charger_gets_both_periods_in_watts(
    central: CentralSystem, make_sim: SimFactory
) -> None:
    sim = await make_sim(
        "SAFE-WATT", configuration={"ChargingScheduleAllowedChargingRateUnit": "Power"}
    )
    await eventually(lambda: central.charge_points()[sim.id].allowed_rate_units == ("W",))
    await central.set_safe_limit(sim.id, 6.0, timedelta(minutes=5), normal_amps=16.0)
    assert [p["limit"] for p in periods(safe_profile(sim))] == [16 * 3 * 230.0, 6 * 3 * 230.0]


async def test_a_charger_with_one_schedule_period_gets_the_old_ceiling_and_one_warning(
    central: CentralSystem,
    make_sim: SimFactory,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = await make_sim("SAFE-ONE-PERIOD", configuration={"ChargingScheduleMaxPeriods": "1"})
    await eventually(lambda: central.charge_points()[sim.id].max_schedule_periods == 1)
    await sim.plug_in("CARD-OK")
    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            safe = await central.set_safe_limit(sim.id, 6.0, timedelta(minutes=10), 16.0)
    profile = safe_profile(sim)
    assert (safe.status, periods(profile)) == ("Accepted", [{"startPeriod": 0, "limit": 6.0}])
    assert profile["validTo"] == iso(clock() + timedelta(minutes=10))
    warnings = [r for r in caplog.records if "one schedule period" in r.getMessage()]
    assert len(warnings) == 1
    assert sim.amps == 6.0  # a ceiling while valid...
    assert await amps_after(sim, clock, minutes=11) == 16.0  # ...and nothing afterwards


async def test_the_sim_refuses_more_periods_than_it_takes(
    central: CentralSystem, make_sim: SimFactory
) -> None:
    """What makes the test above meaningful: two periods would have been rejected."""
    sim = await make_sim("SAFE-SIM-PERIODS", configuration={"ChargingScheduleMaxPeriods": "1"})
    profile = {
        "chargingProfileId": 9,
        "stackLevel": 0,
        "chargingProfilePurpose": "ChargePointMaxProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16.0},
                {"startPeriod": 60, "limit": 6.0},
            ],
        },
    }
    answer = await central.send(
        sim.id, "SetChargingProfile", {"connectorId": 0, "csChargingProfiles": profile}
    )
    assert answer == {"status": "Rejected"}
