"""OCPI commands from an eMSP back end reach a real charger at the CPO's site.

The eMSP platform asks the CPO platform (both real back ends on loopback) to reserve, cancel,
start, stop and unlock at Olga's charge point. Olga's site runs the real central system with
its cloud link to the CPO platform, and a simulated OCPP 1.6 charger is connected to it. Each
command travels eMSP → CPO → site (long poll) → charger (OCPP) and its result back the same
way to the eMSP's response_url; the session it starts is listed to the eMSP by the CPO's
Sessions module, ACTIVE and then COMPLETED. Both engines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backend.ocpi.cdrs_out import session_id
from backend.ocpi.commands_out import command_state
from custom_components.eflux.core.central import AuthorizationSettings
from custom_components.eflux.core.cloud import CloudClient
from custom_components.eflux.core.cloud.link import CloudLink
from sim.chargepoint import SimChargePoint
from tests.central.support import FakeClock, central_config, eventually, running_central

from .conftest import NOW, Platform, Start
from .test_commands import mia_token, roaming_pair, send, until


async def result_of(emsp: Platform, uid: str) -> str:
    """The CommandResult the CPO posted for the command, once it has."""

    async def arrived() -> bool:
        state = await command_state(emsp.store.db, uid)
        assert state is not None
        assert state["response"] == "ACCEPTED", state  # no result follows a refusal
        return state["result"] is not None

    await until(arrived, 30.0)
    state = await command_state(emsp.store.db, uid)
    assert state is not None
    return str(state["result"])


async def sessions_at_cpo(emsp: Platform, cpo: Platform) -> list[dict[str, Any]]:
    token = (await emsp.only_party()).outgoing_token
    assert token is not None
    url = f"{cpo.settings.version_url}/sessions?date_from=2026-01-01T00:00:00Z"
    return await emsp.client.get_all(url, token)


async def test_commands_drive_a_real_charger(start_platform: Start, tmp_path: Path) -> None:
    cpo, emsp, world = await roaming_pair(start_platform)
    clock = FakeClock(NOW)
    config = central_config(tmp_path, authorization=AuthorizationSettings(remote_timeout=10.0))
    client = CloudClient(str(cpo.server.make_url("/")), world["site_token"])
    where = {"location_id": world["location"], "evse_uid": world["evse"]}
    async with running_central(config, clock, client.authorize) as central:
        link = await CloudLink.start(client, central, interval=3600, open_sessions_every=0.05)
        sim = SimChargePoint(
            f"ws://127.0.0.1:{central.port}",
            "OLGA-1",
            "1.6",
            clock=clock,
            reconnect_delay=0.05,
            meter_interval=3600,
        )
        try:
            await sim.start()
            await eventually(
                lambda: (
                    "SupportedFeatureProfiles" in central.charge_points()["OLGA-1"].configuration
                ),
                20.0,
            )
            await eventually(lambda: link.status.online, 20.0)

            # Reserve for Mia, then cancel: the charger holds the reservation, then not.
            reserve = {
                **where,
                "token": mia_token(),
                "expiry_date": "2026-11-03T11:00:00Z",
                "reservation_id": "MIA-R1",
            }
            sent = await send(emsp, "RESERVE_NOW", reserve)
            assert sent.response == "ACCEPTED"
            assert await result_of(emsp, sent.uid) == "ACCEPTED"
            assert sim.reservations.reserved(1)
            (held,) = central.reservations("OLGA-1")
            assert held.id_tag == "MIA01"
            sent = await send(emsp, "CANCEL_RESERVATION", {"reservation_id": "MIA-R1"})
            assert await result_of(emsp, sent.uid) == "ACCEPTED"
            assert sim.calls("CancelReservation") == [{"reservationId": held.id}]
            assert not sim.reservations.reserved(1)

            # Start: RemoteStart at the charger, which starts Mia's transaction.
            start = {**where, "token": mia_token(), "authorization_reference": "MIA-AUTH-7"}
            sent = await send(emsp, "START_SESSION", start)
            assert await result_of(emsp, sent.uid) == "ACCEPTED"
            assert sim.calls("RemoteStartTransaction")[0]["idTag"] == "MIA01"
            await eventually(lambda: bool(central.open_transactions("OLGA-1")), 20.0)

            async def listed(status: str) -> bool:
                found = await sessions_at_cpo(emsp, cpo)
                return [s["status"] for s in found] == [status]

            await until(lambda: listed("ACTIVE"))
            (running,) = await sessions_at_cpo(emsp, cpo)
            assert running["cdr_token"]["uid"] == "MIA01"
            assert (running["auth_method"], running["authorization_reference"]) == (
                "COMMAND",
                "MIA-AUTH-7",
            )
            assert (running["location_id"], running["evse_uid"]) == (
                world["location"],
                world["evse"],
            )

            # Stop it by its session id: RemoteStop, the transaction ends and is synced.
            clock.advance(minutes=30)
            sent = await send(emsp, "STOP_SESSION", {"session_id": running["id"]})
            assert await result_of(emsp, sent.uid) == "ACCEPTED"
            assert len(sim.calls("RemoteStopTransaction")) == 1
            await until(lambda: listed("COMPLETED"))
            (finished,) = await sessions_at_cpo(emsp, cpo)
            assert finished["id"] == running["id"]  # the same session, now finished
            assert "total_cost" in finished
            assert "end_date_time" in finished

            # A second stop of the same session: it is no longer running.
            again = await send(emsp, "STOP_SESSION", {"session_id": running["id"]})
            assert again.response == "UNKNOWN_SESSION"

            # Unlock the connector after Mia's session: UnlockConnector at the charger.
            sent = await send(emsp, "UNLOCK_CONNECTOR", {**where, "connector_id": "1"})
            assert await result_of(emsp, sent.uid) == "ACCEPTED"
            assert sim.calls("UnlockConnector") == [{"connectorId": 1}]
            assert link.commands.handled == 5
        finally:
            await sim.close()
            await link.stop()


async def test_start_stop_and_unlock_on_an_ocpp_201_charger(
    start_platform: Start, tmp_path: Path
) -> None:
    """The same path to a 2.0.1 charger: RequestStart/StopTransaction; its UnlockConnector
    is not implemented, which reaches the eMSP as NOT_SUPPORTED."""
    cpo, emsp, world = await roaming_pair(start_platform)
    clock = FakeClock(NOW)
    config = central_config(tmp_path, authorization=AuthorizationSettings(remote_timeout=10.0))
    client = CloudClient(str(cpo.server.make_url("/")), world["site_token"])
    where = {"location_id": world["location"], "evse_uid": world["evse"]}
    async with running_central(config, clock, client.authorize) as central:
        link = await CloudLink.start(client, central, interval=3600, open_sessions_every=0.05)
        sim = SimChargePoint(
            f"ws://127.0.0.1:{central.port}",
            "OLGA-1",
            "2.0.1",
            clock=clock,
            reconnect_delay=0.05,
            meter_interval=3600,
        )
        try:
            await sim.start()
            await eventually(lambda: "OLGA-1" in central.charge_points(), 20.0)
            await eventually(lambda: link.status.online, 20.0)
            sent = await send(emsp, "START_SESSION", {**where, "token": mia_token()})
            assert await result_of(emsp, sent.uid) == "ACCEPTED"
            start = sim.calls("RequestStartTransaction")[0]
            assert start["idToken"]["idToken"] == "MIA01"
            await eventually(lambda: bool(central.open_transactions("OLGA-1")), 20.0)
            (tx,) = central.open_transactions("OLGA-1")

            async def running() -> bool:
                return len(await sessions_at_cpo(emsp, cpo)) == 1

            await until(running)
            (session,) = await sessions_at_cpo(emsp, cpo)
            assert session["id"] == session_id(world["cp"], tx.id)
            sent = await send(emsp, "STOP_SESSION", {"session_id": session["id"]})
            assert await result_of(emsp, sent.uid) == "ACCEPTED"
            assert sim.calls("RequestStopTransaction")[0]["transactionId"] == tx.id
            await eventually(lambda: not central.open_transactions("OLGA-1"), 20.0)

            async def finished() -> bool:  # the unlock is judged by the last session there
                return [s["status"] for s in await sessions_at_cpo(emsp, cpo)] == ["COMPLETED"]

            await until(finished)
            sent = await send(emsp, "UNLOCK_CONNECTOR", {**where, "connector_id": "1"})
            assert sent.response == "ACCEPTED"
            assert await result_of(emsp, sent.uid) == "NOT_SUPPORTED"
            state = await command_state(emsp.store.db, sent.uid)
            assert state is not None
            assert state["message"] == "UnlockConnector: NotImplemented"
        finally:
            await sim.close()
            await link.stop()
