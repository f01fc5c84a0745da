"""Current limits as charging profiles, their verification, and the per-brand quirks."""

from __future__ import annotations

import pytest
from ocpp.exceptions import OCPPError

from custom_components.eflux.core.central import (
    CallRejected,
    CentralEvent,
    CentralSystem,
    LimitChecked,
    PhaseValues,
)
from sim.chargepoint import SimBehaviour

from .conftest import SimFactory
from .support import FakeClock, db_rows, eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")


def recorder(central: CentralSystem) -> list[CentralEvent]:
    events: list[CentralEvent] = []
    central.add_listener(events.append)
    return events


def last_profile(sim: object) -> dict[str, object]:
    return sim.calls("SetChargingProfile")[-1]["csChargingProfiles"]  # type: ignore[attr-defined, no-any-return]


async def test_tx_default_when_idle_tx_profile_when_charging(
    central: CentralSystem, make_sim: SimFactory
) -> None:
    sim = await make_sim("LIM-BASIC")
    idle = await central.set_current_limit("LIM-BASIC", 13.0, phases=3)
    profile = last_profile(sim)
    assert (idle.purpose, profile["chargingProfilePurpose"], profile["stackLevel"]) == (
        "TxDefaultProfile",
        "TxDefaultProfile",
        1,
    )
    assert sim.calls("SetChargingProfile")[-1]["connectorId"] == 0
    tx_id = await sim.plug_in("CARD-OK")
    assert sim.amps == 13.0
    running = await central.set_current_limit("LIM-BASIC", 7.0)
    profile = last_profile(sim)
    assert (running.purpose, profile["transactionId"], sim.amps) == (
        "TxProfile",
        int(tx_id or 0),
        7.0,
    )
    schedule = profile["chargingSchedule"]
    assert schedule["chargingRateUnit"] == "A"  # type: ignore[index]
    assert schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 7.0}]  # type: ignore[index]
    state = central.charge_points()["LIM-BASIC"]
    assert state.connectors[1].limit == running
    await sim.sample_now()
    state = central.charge_points()["LIM-BASIC"]
    assert state.current_a == PhaseValues(7.0, 7.0, 7.0)  # what the balancer reads
    assert state.phases_in_use == 3


async def test_a_power_only_charger_gets_watts_and_the_stack_level_it_allows(
    central: CentralSystem, make_sim: SimFactory
) -> None:
    power_only = {
        "ChargingScheduleAllowedChargingRateUnit": "Power",
        "ChargeProfileMaxStackLevel": "0",
    }
    sim = await make_sim("LIM-WATT", configuration=power_only)
    await eventually(lambda: central.charge_points()["LIM-WATT"].allowed_rate_units == ("W",))
    await central.set_current_limit("LIM-WATT", 10.0, phases=1)
    profile = last_profile(sim)
    assert profile["stackLevel"] == 0
    assert profile["chargingSchedule"]["chargingRateUnit"] == "W"  # type: ignore[index]
    assert profile["chargingSchedule"]["chargingSchedulePeriod"] == [  # type: ignore[index]
        {"startPeriod": 0, "limit": 2300.0, "numberPhases": 1}
    ]


async def test_limits_are_verified_from_the_next_meter_values(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    events = recorder(central)
    obeys = await make_sim("LIM-OBEYS")
    ignores = await make_sim("LIM-IGNORES", behaviour=SimBehaviour(ignores_profiles=True))
    for sim in (obeys, ignores):
        await sim.plug_in("CARD-OK")
        await central.set_current_limit(sim.id, 8.0)
    clock.advance(seconds=10)
    for sim in (obeys, ignores):
        await sim.sample_now()
    checked = {e.charge_point_id: e for e in events if isinstance(e, LimitChecked)}
    assert (checked["LIM-OBEYS"].limit.verified, checked["LIM-OBEYS"].measured_max_a) == (True, 8.0)
    assert (checked["LIM-IGNORES"].limit.verified, checked["LIM-IGNORES"].measured_max_a) == (
        False,
        16.0,
    )
    assert central.charge_points()["LIM-IGNORES"].connectors[1].limit.verified is False  # type: ignore[union-attr]


async def test_abb_gets_stack_level_0_and_an_overwrite_instead_of_a_clear(
    central: CentralSystem, make_sim: SimFactory
) -> None:
    behaviour = SimBehaviour(rejects_stack_level_above_zero=True, clear_profile_is_noop=True)
    abb = await make_sim("Q-ABB", vendor="ABB", model="Terra AC W11", behaviour=behaviour)
    await central.set_current_limit("Q-ABB", 10.0)
    assert (last_profile(abb)["stackLevel"], abb.limit_a) == (0, 10.0)
    await central.clear_current_limit("Q-ABB")
    assert abb.calls("ClearChargingProfile") == []
    assert abb.limit_a is None  # 63 A "unlimited" is above what the charger offers
    other = await make_sim("Q-NOT-ABB", vendor="Acme", behaviour=behaviour)
    with pytest.raises(CallRejected) as rejected:
        await central.set_current_limit("Q-NOT-ABB", 10.0)
    assert rejected.value.status == "Rejected"
    assert other.limit_a is None


@pytest.mark.parametrize("vendor", ["Wallbox", "Acme"])  # Acme: found out from the rejection
async def test_a_charger_refusing_0_amps_is_paused_by_stopping_and_resumed_with_the_same_card(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock, vendor: str
) -> None:
    sim = await make_sim(
        f"Q-PAUSE-{vendor}", vendor=vendor, behaviour=SimBehaviour(rejects_zero_limit=True)
    )
    first = await sim.plug_in("CARD-OK")
    paused = await central.set_current_limit(sim.id, 0.0)
    assert paused.purpose == "paused"
    await eventually(lambda: sim.transaction is None and not central.open_transactions(sim.id))
    assert sim.plugged
    clock.advance(minutes=5)
    await central.set_current_limit(sim.id, 10.0)
    await eventually(lambda: sim.transaction is not None and sim.transaction.id is not None)
    assert sim.transaction is not None
    assert (sim.transaction.id_tag, sim.amps) == ("CARD-OK", 10.0)
    assert sim.transaction.id != first


@pytest.mark.parametrize(("vendor", "resumed_amps"), [("go-e", 10.0), ("Acme", 0.0)])
async def test_go_e_hears_the_first_limit_after_a_pause_twice(
    central: CentralSystem, make_sim: SimFactory, vendor: str, resumed_amps: float
) -> None:
    sim = await make_sim(
        f"Q-GOE-{vendor}",
        vendor=vendor,
        behaviour=SimBehaviour(ignores_first_limit_after_zero=True),
    )
    await sim.plug_in("CARD-OK")
    await central.set_current_limit(sim.id, 0.0)
    assert sim.amps == 0.0
    await central.set_current_limit(sim.id, 10.0)
    assert sim.amps == resumed_amps


async def test_evbox_is_not_asked_to_change_its_configuration(
    central: CentralSystem, make_sim: SimFactory
) -> None:
    stubborn = SimBehaviour(rejects_configuration_changes=True)
    evbox = await make_sim("Q-EVBOX", vendor="EVBox", model="Elvi", behaviour=stubborn)
    other = await make_sim("Q-STUBBORN", vendor="Acme", behaviour=stubborn)
    await eventually(
        lambda: "NumberOfConnectors" in central.charge_points()["Q-EVBOX"].configuration
    )
    await eventually(lambda: len(other.calls("ChangeConfiguration")) >= 2)
    assert evbox.calls("ChangeConfiguration") == []
    await eventually(lambda: len(other.calls("GetConfiguration")) == 2)  # read back what it kept
    assert central.charge_points()["Q-STUBBORN"].configuration["MeterValuesSampledData"] == (
        "Energy.Active.Import.Register"
    )
    assert await evbox.plug_in("CARD-OK") is not None  # and it charges all the same


@pytest.mark.parametrize(("vendor", "accepted"), [("ChargeAmps", True), ("Acme", False)])
async def test_chargeamps_hz_unit_is_tolerated(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock, vendor: str, accepted: bool
) -> None:
    sim = await make_sim(
        f"Q-HZ-{vendor}", vendor=vendor, behaviour=SimBehaviour(frequency_unit="Hz")
    )
    await sim.plug_in("CARD-OK")
    clock.advance(minutes=6)
    if accepted:
        await sim.sample_now()
        assert central.open_transactions(sim.id)[0].energy_wh == pytest.approx(
            16 * 3 * 230 / 10, abs=0.5
        )
    else:
        with pytest.raises(OCPPError) as refused:
            await sim.sample_now()
        assert refused.value.code == "PropertyConstraintViolation"


@pytest.mark.parametrize(("vendor", "flagged"), [("Grizzl-E", False), ("Acme", True)])
async def test_grizzl_e_session_energy_becomes_a_register(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock, vendor: str, flagged: bool
) -> None:
    sim = await make_sim(
        f"Q-GRIZZL-{vendor}",
        vendor=vendor,
        model="Smart",
        behaviour=SimBehaviour(session_energy_in_meter_values=True),
    )
    await sim.plug_in("CARD-OK")
    clock.advance(minutes=30)
    await sim.sample_now()
    tx = central.open_transactions(sim.id)[0]
    assert tx.energy_flagged is flagged
    if not flagged:
        assert tx.energy_wh == pytest.approx(16 * 3 * 230 / 2, abs=0.5)


async def test_alfen_wrong_context_and_backlog_replay_change_nothing(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    behaviour = SimBehaviour(meter_context="Transaction.Begin", replays_meter_backlog=True)
    sim = await make_sim("Q-ALFEN", vendor="Alfen BV", model="NG910", behaviour=behaviour)
    await sim.plug_in("CARD-OK")
    for _ in range(5):
        clock.advance(minutes=1)
        await sim.sample_now()
    before = central.open_transactions("Q-ALFEN")[0]
    await sim.drop_connection()
    await eventually(lambda: sim.connected.is_set() and len(sim.calls("GetConfiguration")) >= 1)
    await sim.wait_for(lambda: sim.queued == 0)
    await sim.sample_now()  # proves the replay went through before this
    rows = db_rows(
        central.config.db_path,
        "SELECT count(*), count(DISTINCT ts) FROM meter_samples WHERE charge_point_id = 'Q-ALFEN'",
    )
    assert rows[0][0] == rows[0][1]  # replayed samples merged, not duplicated
    after = central.open_transactions("Q-ALFEN")[0]
    assert after.energy_wh == before.energy_wh  # the clock did not move: nothing new drawn
    assert not after.energy_flagged


async def test_etrel_negative_transaction_ids_resolve_to_the_open_transaction(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim(
        "Q-ETREL",
        vendor="Etrel",
        model="INCH",
        behaviour=SimBehaviour(keeps_local_transaction_id=True),
    )
    await sim.plug_in("CARD-OK")
    clock.advance(minutes=20)
    await sim.sample_now()
    [tx] = central.open_transactions("Q-ETREL")
    assert tx.energy_wh == pytest.approx(16 * 3 * 230 / 3, abs=0.5)
    await sim.unplug()
    await eventually(lambda: not central.open_transactions("Q-ETREL"))
    rows = db_rows(
        central.config.db_path,
        "SELECT orphan, energy_wh FROM transactions WHERE charge_point_id = 'Q-ETREL'",
    )
    assert rows == [(0, pytest.approx(16 * 3 * 230 / 3, abs=0.5))]
