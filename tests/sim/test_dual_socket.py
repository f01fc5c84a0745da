"""A dual-socket simulated charger against a real central system: both sockets reported, the car
on socket 2, a TxProfile for socket 2 limits it and one for the empty socket 1 is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.central.support import FakeClock, central_config, running_central, sims_against


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_car_on_socket_2_is_limited_there(tmp_path: Path, version: str) -> None:
    clock = FakeClock()
    async with (
        running_central(central_config(tmp_path), clock) as central,
        sims_against(central, clock) as start,
    ):
        sim = await start("DUAL", version, connectors=2, connector_id=2)
        await sim.plug_in("CARD-1")
        await sim.wait_for(lambda: sim.transaction is not None and sim.transaction.id is not None)
        state = central.charge_points()["DUAL"]
        assert {1, 2} <= set(state.connectors)
        assert state.connectors[1].status == "Available"
        assert [tx.connector_id for tx in state.active_transactions] == [2]
        if version == "1.6":
            assert sim.configuration["NumberOfConnectors"] == "2"

        await central.set_current_limit("DUAL", 10.0, None, 2)
        assert sim.offered_a() == 10.0
        key = "connectorId" if version == "1.6" else "evseId"
        assert sim.calls("SetChargingProfile")[-1][key] == 2
        # A TxProfile is for the socket its transaction runs on: the empty socket 1 refuses it,
        # and socket 1's own default limit leaves the car on socket 2 alone.
        tx = sim.transaction
        assert tx is not None
        assert tx.id is not None
        answer = await central.send("DUAL", "SetChargingProfile", _tx_profile(version, tx.id, 1))
        assert answer["status"] == "Rejected"
        await central.set_current_limit("DUAL", 6.0, None, 1)
        assert sim.offered_a() == 10.0


def _tx_profile(version: str, tx_id: str, connector: int) -> dict[str, object]:
    schedule = {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}]}
    if version == "1.6":
        return {
            "connectorId": connector,
            "csChargingProfiles": {
                "chargingProfileId": 900,
                "stackLevel": 1,
                "chargingProfilePurpose": "TxProfile",
                "chargingProfileKind": "Relative",
                "transactionId": int(tx_id),
                "chargingSchedule": schedule,
            },
        }
    return {
        "evseId": connector,
        "chargingProfile": {
            "id": 900,
            "stackLevel": 1,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "transactionId": tx_id,
            "chargingSchedule": [{"id": 1, **schedule}],
        },
    }
