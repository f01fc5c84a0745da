"""The simulated charger's reservation rules, driven by raw ReserveNow/CancelReservation from a
real central system (`central.send`): answers, the parent (group) card, Reserved after a
reconnect, and the reservationId on the start."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.central.support import (
    FakeClock,
    central_config,
    eventually,
    running_central,
    sims_against,
)


def reserve_payload(
    version: str, rid: int, connector: int, card: str, expiry: str
) -> dict[str, object]:
    if version == "1.6":
        return {
            "connectorId": connector,
            "expiryDate": expiry,
            "idTag": card,
            "reservationId": rid,
            "parentIdTag": "FLEET",
        }
    return {
        "id": rid,
        "expiryDateTime": expiry,
        "idToken": {"idToken": card, "type": "ISO14443"},
        "evseId": connector,
        "groupIdToken": {"idToken": "FLEET", "type": "Central"},
    }


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_sim_reservation_rules(tmp_path: Path, version: str) -> None:
    clock = FakeClock()
    expiry = (clock() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    async with (
        running_central(central_config(tmp_path), clock) as central,
        sims_against(central, clock) as start,
    ):
        sim = await start("SIM-RES", version, connectors=2, connector_id=1)
        send = central.send
        assert await send("SIM-RES", "ReserveNow", reserve_payload(version, 7, 0, "A", expiry)) == {
            "status": "Rejected"  # no connector 0 reservations on this charger
        }
        assert await send("SIM-RES", "ReserveNow", reserve_payload(version, 7, 2, "A", expiry)) == {
            "status": "Accepted"
        }
        await eventually(
            lambda: central.charge_points()["SIM-RES"].connectors[2].status == "Reserved"
        )
        # The same id again replaces it; another id on that socket finds it Occupied.
        assert (await send("SIM-RES", "ReserveNow", reserve_payload(version, 7, 2, "A", expiry)))[
            "status"
        ] == "Accepted"
        assert (await send("SIM-RES", "ReserveNow", reserve_payload(version, 8, 2, "B", expiry)))[
            "status"
        ] == "Occupied"
        # After a reconnect the socket is still reported Reserved.
        before = len(central.charge_points()["SIM-RES"].connectors)
        await sim.drop_connection()
        await eventually(lambda: not central.charge_points()["SIM-RES"].online)
        await sim.connected.wait()
        await eventually(lambda: central.charge_points()["SIM-RES"].online)
        assert len(central.charge_points()["SIM-RES"].connectors) == before
        assert central.charge_points()["SIM-RES"].connectors[2].status == "Reserved"
        assert await send("SIM-RES", "CancelReservation", {"reservationId": 99}) == {
            "status": "Rejected"
        }
        assert await send("SIM-RES", "CancelReservation", {"reservationId": 7}) == {
            "status": "Accepted"
        }
        await eventually(
            lambda: central.charge_points()["SIM-RES"].connectors[2].status == "Available"
        )

        # On the car's socket: a card of the reservation's group may start, with its id.
        assert (await send("SIM-RES", "ReserveNow", reserve_payload(version, 9, 1, "A", expiry)))[
            "status"
        ] == "Accepted"
        assert sim.status == "Reserved"
        await sim.plug_in("FLEET")
        assert sim.transaction is not None
        assert sim.transaction.reservation_id == 9
        assert sim.reservations.held == {}
        # A charger made unavailable answers Unavailable.
        await central.set_availability("SIM-RES", 0, False)
        assert (await send("SIM-RES", "ReserveNow", reserve_payload(version, 10, 2, "A", expiry)))[
            "status"
        ] == "Unavailable"
