"""A TxProfile that overtakes StartTransaction's answer (1.6): the charger rejects it because it
does not know the transaction id yet. That must not read as "0 A not supported" (which pauses
a session by stopping it): the limit is retried shortly instead."""

from __future__ import annotations

import pytest

from custom_components.eflux.core.central import CentralSystem
from sim.chargepoint import SimBehaviour, SimChargePoint

from .conftest import SimFactory
from .support import FakeClock, eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")


def tx_profiles(sim: SimChargePoint) -> list[float]:
    return [
        call["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]
        for call in sim.calls("SetChargingProfile")
        if call["csChargingProfiles"]["chargingProfilePurpose"] == "TxProfile"
    ]


async def test_an_early_0_amp_limit_is_retried_and_the_session_kept(
    central: CentralSystem, make_sim: SimFactory
) -> None:
    sim = await make_sim("EARLY-ZERO", behaviour=SimBehaviour(late_transaction_id=2))
    tx_id = await sim.plug_in("CARD-OK")
    paused = await central.set_current_limit(sim.id, 0.0)
    assert (paused.purpose, paused.amps, paused.status) == ("TxProfile", 0.0, "Accepted")
    assert tx_profiles(sim) == [0.0, 0.0, 0.0]  # two rejected as too early, the third taken
    assert sim.calls("RemoteStopTransaction") == []
    assert sim.transaction is not None
    assert sim.transaction.id == tx_id
    assert sim.amps == 0.0
    assert [t.id for t in central.open_transactions(sim.id)] == [tx_id]
    resumed = await central.set_current_limit(sim.id, 10.0)
    assert (resumed.purpose, sim.amps) == ("TxProfile", 10.0)


async def test_an_early_limit_above_0_is_retried_too(
    central: CentralSystem, make_sim: SimFactory
) -> None:
    sim = await make_sim("EARLY-TEN", behaviour=SimBehaviour(late_transaction_id=1))
    await sim.plug_in("CARD-OK")
    limit = await central.set_current_limit(sim.id, 10.0)
    assert (limit.status, tx_profiles(sim), sim.amps) == ("Accepted", [10.0, 10.0], 10.0)


async def test_a_charger_that_refuses_0_amps_is_still_paused_by_stopping_and_remembered(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim(
        "EARLY-REFUSES-ZERO",
        vendor="Acme",
        behaviour=SimBehaviour(late_transaction_id=1, rejects_zero_limit=True),
    )
    await sim.plug_in("CARD-OK")
    paused = await central.set_current_limit(sim.id, 0.0)
    assert paused.purpose == "paused"  # rejected even once the id was known: 0 A it is
    await eventually(lambda: sim.transaction is None and not central.open_transactions(sim.id))
    clock.advance(minutes=5)
    await central.set_current_limit(sim.id, 10.0)  # resumed with the same card
    await eventually(lambda: len(central.open_transactions(sim.id)) == 1)
    before = len(tx_profiles(sim))
    again = await central.set_current_limit(sim.id, 0.0)
    assert again.purpose == "paused"
    assert len(tx_profiles(sim)) == before  # found out once: no 0 A TxProfile tried again


async def test_an_old_transaction_gets_no_retries(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim(
        "EARLY-OLD", vendor="Acme", behaviour=SimBehaviour(rejects_zero_limit=True)
    )
    await sim.plug_in("CARD-OK")
    clock.advance(minutes=10)  # long past any answer on its way
    paused = await central.set_current_limit(sim.id, 0.0)
    assert (paused.purpose, tx_profiles(sim)) == ("paused", [0.0])
