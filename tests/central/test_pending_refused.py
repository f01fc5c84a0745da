"""Boot policy "pending": what a charger not approved yet sends opens no session - over real
websockets with sim chargers and raw frames, both versions - and a flood of new ids cannot
grow the list of chargers waiting for approval."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from ocpp.exceptions import SecurityError

from custom_components.eflux.core.central import AuthorizationSettings, CentralSystem
from custom_components.eflux.core.central.admission import is_refused_transaction
from custom_components.eflux.core.central.errors import NotReady
from custom_components.eflux.core.domain import Card, CardListDelta, CardStatus

from .support import (
    FakeClock,
    RawCharger,
    boot_v16,
    boot_v201,
    central_config,
    db_rows,
    eventually,
    iso,
    meter_value,
    outbox_sessions,
    sims_against,
)
from .support import running_central as running

CARDS = AuthorizationSettings(cards=frozenset({"CARD-OK"}))


def _pending_config(tmp_path: Path, **changes: Any) -> Any:
    return central_config(
        tmp_path,
        accept_new_chargers=False,
        boot_policy="pending",
        authorization=CARDS,
        **changes,
    )


def _transactions(db: Path) -> int:
    return int(db_rows(db, "SELECT count(*) FROM transactions")[0][0])


async def _approve(central: CentralSystem, cp_id: str) -> None:
    await central.approve(cp_id)
    await eventually(lambda: central.charge_points()[cp_id].boot_status == "Accepted")


async def test_a_pending_16_sim_cannot_start_a_session_until_approved(tmp_path: Path) -> None:
    config = _pending_config(tmp_path)
    clock = FakeClock()
    async with running(config, clock) as central, sims_against(central, clock) as start:
        # a card list the site has: an approved charger gets it, a waiting one never does
        await central.apply_card_delta(CardListDelta(0, 1, (Card("CARD-LIST", CardStatus.ACTIVE),)))
        sim = await start("NEW-16")
        assert central.charge_points()["NEW-16"].boot_status == "Pending"
        assert await sim.adapter.authorize("CARD-OK") == "Invalid"
        tx_id = await sim.plug_in("CARD-OK")
        assert tx_id is not None
        assert is_refused_transaction(tx_id)
        assert sim.transaction is not None
        assert sim.transaction.card_status == "Invalid"
        await sim.sample_now()  # MeterValues for the refused transaction: acknowledged
        with pytest.raises(NotReady):  # no profile ever goes to it
            await central.set_current_limit("NEW-16", 6.0)
        await sim.unplug()  # StopTransaction for the refused transaction: acknowledged
        assert sim.queued == 0
        assert _transactions(config.db_path) == 0
        assert await outbox_sessions(config.db_path) == []
        assert central.open_transactions("NEW-16") == []
        assert sim.calls("SetChargingProfile") == []
        new_card = Card("CARD-NEW", CardStatus.ACTIVE)
        assert await central.push_local_list([new_card]) == {}  # to no charger waiting
        assert await central.push_local_list([new_card], "NEW-16") == {"NEW-16": "NotReady"}
        assert sim.calls("SendLocalList") == []

        await _approve(central, "NEW-16")
        await sim.wait_for(lambda: bool(sim.calls("SendLocalList")))  # configured as approved
        assert await sim.adapter.authorize("CARD-OK") == "Accepted"
        tx_id = await sim.plug_in("CARD-OK")
        assert tx_id is not None
        assert int(tx_id) > 0
        assert [tx.id for tx in central.open_transactions("NEW-16")] == [tx_id]
        limit = await central.set_current_limit("NEW-16", 6.0)
        assert limit.amps == 6.0
        assert sim.calls("SetChargingProfile")
        clock.advance(minutes=30)
        await sim.unplug()
        assert [s.transaction_id for s in await outbox_sessions(config.db_path)] == [tx_id]


async def test_a_pending_16_charger_is_refused_frame_by_frame(tmp_path: Path) -> None:
    config = _pending_config(tmp_path)
    clock = FakeClock()
    async with (
        running(config, clock) as central,
        RawCharger.connect(central.port, "RAW-16") as raw,
    ):
        assert (await raw.call_ok("BootNotification", boot_v16()))["status"] == "Pending"
        assert "currentTime" in await raw.call_ok("Heartbeat", {})
        status = {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"}
        assert await raw.call_ok("StatusNotification", status) == {}
        answer = await raw.call_ok("Authorize", {"idTag": "CARD-OK"})
        assert answer == {"idTagInfo": {"status": "Invalid"}}
        start = {"connectorId": 1, "idTag": "CARD-OK", "meterStart": 100, "timestamp": iso(clock())}
        answer = await raw.call_ok("StartTransaction", start)
        assert answer["idTagInfo"] == {"status": "Invalid"}
        refused = answer["transactionId"]
        assert is_refused_transaction(refused)
        # a malformed start is still answered as malformed
        error = await raw.call("StartTransaction", {"connectorId": 1, "idTag": "CARD-OK"})
        assert (error[0], error[2]) == (4, "OccurenceConstraintViolation")
        values = {
            "connectorId": 1,
            "transactionId": refused,
            "meterValue": [meter_value(clock(), 900)],
        }
        assert await raw.call_ok("MeterValues", values) == {}
        # anything else about sessions or cards: SecurityError (it is kept and sent again)
        for action, payload in (
            ("MeterValues", {"connectorId": 1, "meterValue": [meter_value(clock(), 900)]}),
            ("DataTransfer", {"vendorId": "acme"}),
        ):
            error = await raw.call(action, payload)
            assert (error[0], error[2]) == (4, "SecurityError"), action
        stop = {"transactionId": refused, "meterStop": 900, "timestamp": iso(clock())}
        error = await raw.call("StopTransaction", {**stop, "transactionId": 7}, "STOP-7")
        assert (error[0], error[2]) == (4, "SecurityError")
        assert await raw.call_ok("StopTransaction", {**stop, "idTag": "CARD-OK"}) == {
            "idTagInfo": {"status": "Invalid"}
        }
        assert _transactions(config.db_path) == 0
        assert await outbox_sessions(config.db_path) == []
        with pytest.raises(NotReady):
            await central.remote_start("RAW-16", 1, "CARD-OK")

        approval = asyncio.create_task(central.approve("RAW-16"))
        call = await raw.next_call_from_central()
        while call[2] != "TriggerMessage":  # configuration read while Pending
            answer = {"configurationKey": []} if call[2] == "GetConfiguration" else {}
            await raw.send(f'[3,"{call[1]}",{_json(answer | {"status": "Accepted"})}]')
            call = await raw.next_call_from_central()
        await raw.send(f'[3,"{call[1]}",{{"status":"Accepted"}}]')
        await approval
        assert (await raw.call_ok("BootNotification", boot_v16()))["status"] == "Accepted"
        # the StopTransaction refused while it waited comes again and is taken now (an
        # orphan record: this central system never started transaction 7)
        late = await raw.call("StopTransaction", {**stop, "transactionId": 7}, "STOP-7")
        assert late == [3, "STOP-7", {}]  # the same message id again: answered now
        start = {**start, "timestamp": iso(clock.advance(minutes=1))}
        answer = await raw.call_ok("StartTransaction", start)
        assert answer["idTagInfo"]["status"] == "Accepted"
        assert int(answer["transactionId"]) > 0
        # the refused one stays refused after the approval too
        assert await raw.call_ok("StopTransaction", stop) == {}
        assert [tx.id for tx in central.open_transactions("RAW-16")] == [
            str(answer["transactionId"])
        ]


def _json(value: Any) -> str:
    return json.dumps(value)


async def test_a_pending_201_station_gets_security_error(tmp_path: Path) -> None:
    config = _pending_config(tmp_path)
    clock = FakeClock()
    async with running(config, clock) as central:
        async with sims_against(central, clock) as start:
            sim = await start("SIM-201", "2.0.1")  # its StatusNotification is answered
            assert central.charge_points()["SIM-201"].boot_status == "Pending"
            with pytest.raises(SecurityError):
                await sim.adapter.authorize("CARD-OK")
        async with RawCharger.connect(central.port, "RAW-201", "2.0.1") as raw:
            assert (await raw.call_ok("BootNotification", boot_v201()))["status"] == "Pending"
            assert "currentTime" in await raw.call_ok("Heartbeat", {})
            token = {"idToken": "CARD-OK", "type": "ISO14443"}
            started = {
                "eventType": "Started",
                "timestamp": iso(clock()),
                "triggerReason": "Authorized",
                "seqNo": 0,
                "transactionInfo": {"transactionId": "TX-1"},
                "idToken": token,
                "evse": {"id": 1, "connectorId": 1},
            }
            values = {"evseId": 1, "meterValue": [meter_value(clock(), 900)]}
            for action, payload in (
                ("Authorize", {"idToken": token}),
                ("TransactionEvent", started),
                ("MeterValues", values),
                (
                    "NotifyEVChargingNeeds",
                    {"evseId": 1, "chargingNeeds": {"requestedEnergyTransfer": "AC_three_phase"}},
                ),
                ("TransactionEvent", {"malformed": True}),  # refused before it is read
            ):
                error = await raw.call(action, payload)
                assert (error[0], error[2]) == (4, "SecurityError"), action
            assert _transactions(config.db_path) == 0
            assert await outbox_sessions(config.db_path) == []
            with pytest.raises(NotReady):
                await central.set_current_limit("RAW-201", 6.0)

            approval = asyncio.create_task(central.approve("RAW-201"))
            call = await raw.next_call_from_central()
            while call[2] != "TriggerMessage":  # configuration read while Pending
                reply: dict[str, Any] = {"getVariableResult": []}
                await raw.send(
                    f'[3,"{call[1]}",{_json(reply if call[2] == "GetVariables" else {})}]'
                )
                call = await raw.next_call_from_central()
            await raw.send(f'[3,"{call[1]}",{{"status":"Accepted"}}]')
            await approval
            assert (await raw.call_ok("BootNotification", boot_v201()))["status"] == "Accepted"
            taken = await raw.call_ok("TransactionEvent", started)
            assert taken["idTokenInfo"]["status"] == "Accepted"
            ended = {
                **started,
                "eventType": "Ended",
                "seqNo": 1,
                "timestamp": iso(clock.advance(minutes=20)),
                "triggerReason": "EVDeparted",
                "transactionInfo": {"transactionId": "TX-1", "stoppedReason": "EVDisconnected"},
            }
            await raw.call_ok("TransactionEvent", ended)
            assert [s.transaction_id for s in await outbox_sessions(config.db_path)] == ["TX-1"]


async def test_the_pending_list_is_capped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = _pending_config(tmp_path, max_pending_chargers=2)
    caplog.set_level(logging.DEBUG, logger="custom_components.eflux.core.central.admission")
    async with running(config, FakeClock()) as central:
        async with (
            RawCharger.connect(central.port, "WAIT-1") as first,
            RawCharger.connect(central.port, "WAIT-2", "2.0.1") as second,
        ):
            assert (await first.call_ok("BootNotification", boot_v16()))["status"] == "Pending"
            assert (await second.call_ok("BootNotification", boot_v201()))["status"] == "Pending"
            for attempt in range(3):
                async with RawCharger.connect(central.port, f"FLOOD-{attempt}") as flood:
                    answer = await flood.call_ok("BootNotification", boot_v16())
                    assert (answer["status"], answer["interval"]) == ("Rejected", 300)
                    again = await flood.call_ok("BootNotification", boot_v16())
                    assert again["status"] == "Rejected"
                    # nothing but BootNotification from a Rejected charger (B03.FR.07)
                    error = await flood.call("Heartbeat", {})
                    assert (error[0], error[2]) == (4, "SecurityError")
                    assert flood.calls_from_central == []  # and nothing is sent to it
            assert central.pending_charge_points() == ["WAIT-1", "WAIT-2"]
            debug = [r for r in caplog.records if "boot Rejected" in r.getMessage()]
            assert [r.getMessage().split(":")[0] for r in debug] == [
                "FLOOD-0",
                "FLOOD-1",
                "FLOOD-2",
            ]  # once per id, though each booted twice
            assert all(r.levelno == logging.DEBUG for r in debug)
            warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
            counted = [w for w in warnings if "Rejected so far" in w]
            assert counted == [
                "1 boots of new chargers Rejected so far: 2 already wait for approval"
                " (central.max_pending_chargers); approve them, or a place frees when one of"
                " them disconnects"
            ]
            # one that does not boot may say nothing else either, and leaves nothing behind
            async with RawCharger.connect(central.port, "SILENT") as silent:
                status = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
                error = await silent.call("StatusNotification", status)
                assert (error[0], error[2]) == (4, "SecurityError")
            await _gone(central, "SILENT")
        # the rejected ids are forgotten; the waiting ones are kept while they wait
        for cp_id in ("FLOOD-0", "FLOOD-1", "FLOOD-2"):
            await _gone(central, cp_id)
        assert _stored(config.db_path) == ["WAIT-1", "WAIT-2"]
        # both waiting chargers left: a new one takes their place, and they are forgotten
        states = central.charge_points
        await eventually(lambda: not (states()["WAIT-1"].online or states()["WAIT-2"].online))
        async with RawCharger.connect(central.port, "LATER") as later:
            assert (await later.call_ok("BootNotification", boot_v16()))["status"] == "Pending"
        assert central.pending_charge_points() == ["LATER"]
        assert _stored(config.db_path) == ["LATER"]
        assert "WAIT-1" not in central.charge_points()


def _stored(db: Path) -> list[str]:
    rows = db_rows(db, "SELECT id FROM charge_points UNION SELECT charge_point_id FROM connectors")
    return sorted(str(row[0]) for row in rows)


async def _gone(central: CentralSystem, cp_id: str) -> None:
    """Its connection's end is handled after the client's close returns."""
    await eventually(lambda: cp_id not in central.charge_points())
