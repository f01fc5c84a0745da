"""OCPP 1.6J over real websockets: every charger -> central and central -> charger message."""

from __future__ import annotations

from datetime import timedelta

import pytest

from custom_components.eflux.core.central import (
    CentralEvent,
    CentralSystem,
    ChargerNotified,
    StatusChanged,
    TransactionEnded,
)

from .conftest import SimFactory
from .support import FakeClock, RawCharger, eventually, iso, meter_value, outbox_sessions

pytestmark = pytest.mark.asyncio(loop_scope="module")


def recorder(central: CentralSystem) -> list[CentralEvent]:
    events: list[CentralEvent] = []
    central.add_listener(events.append)
    return events


async def test_boot_then_meter_configuration_is_set_and_read_back(
    central: CentralSystem, make_sim: SimFactory
) -> None:
    sim = await make_sim("V16-BOOT", firmware="4.2.1", serial="SN-7")
    await eventually(
        lambda: (
            "MeterValuesSampledData" in central.charge_points()["V16-BOOT"].configuration
            and sim.configuration["MeterValueSampleInterval"] == "10"
        )
    )
    state = central.charge_points()["V16-BOOT"]
    assert (state.vendor, state.model, state.firmware, state.serial) == (
        "E-Flux",
        "SimCharger",
        "4.2.1",
        "SN-7",
    )
    assert (state.ocpp_version, state.online) == ("1.6", True)
    await eventually(
        lambda: (
            "Current.Import"
            in central.charge_points()["V16-BOOT"].configuration.get("MeterValuesSampledData", "")
        )
    )
    state = central.charge_points()["V16-BOOT"]
    assert state.configuration["MeterValueSampleInterval"] == "10"
    assert state.allowed_rate_units == ("A", "W")
    assert state.max_stack_level == 8
    assert sim.heartbeat_interval == 300
    sim.configuration["ChargeProfileMaxStackLevel"] = "2"  # e.g. after a firmware update
    await central.reconfigure("V16-BOOT")
    assert central.charge_points()["V16-BOOT"].max_stack_level == 2


async def test_heartbeat_status_and_error_codes(central: CentralSystem, clock: FakeClock) -> None:
    events = recorder(central)
    async with RawCharger.connect(central.port, "V16-RAW") as raw:
        assert (await raw.call_ok("Heartbeat", {})) == {
            "currentTime": iso(clock()).replace(".000", "")
        }
        now = clock()
        await raw.call_ok(
            "StatusNotification",
            {
                "connectorId": 1,
                "errorCode": "GroundFailure",
                "status": "Faulted",
                "info": "RCD tripped",
                "vendorId": "acme",
                "vendorErrorCode": "E42",
                "timestamp": iso(now),
            },
        )
        older = {
            "connectorId": 1,
            "errorCode": "NoError",
            "status": "Available",
            "timestamp": iso(now - timedelta(minutes=5)),
        }
        await raw.call_ok("StatusNotification", older)  # offline-queued: history, not state
        connector = central.charge_points()["V16-RAW"].connectors[1]
        assert (
            connector.status,
            connector.error_code,
            connector.info,
            connector.vendor_error_code,
        ) == ("Faulted", "GroundFailure", "RCD tripped", "E42")
        assert [e.status for e in events if isinstance(e, StatusChanged)] == ["Faulted"]


async def test_authorize_uses_the_configured_cards(central: CentralSystem) -> None:
    async with RawCharger.connect(central.port, "V16-AUTH") as raw:
        ok = await raw.call_ok("Authorize", {"idTag": "card-ok"})  # case does not matter
        assert ok["idTagInfo"]["status"] == "Accepted"
        assert "expiryDate" in ok["idTagInfo"]
        assert (await raw.call_ok("Authorize", {"idTag": "NOBODY"})) == {
            "idTagInfo": {"status": "Invalid"}
        }


async def test_a_session_with_a_car_ends_in_the_outbox_with_the_right_energy(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    events = recorder(central)
    sim = await make_sim("V16-CAR")
    await eventually(lambda: "Current.Import" in sim.configuration["MeterValuesSampledData"])
    tx_id = await sim.plug_in("CARD-OK")
    assert tx_id is not None
    tx = central.charge_points()["V16-CAR"].connectors[1].transaction
    assert tx is not None
    assert (tx.id, tx.id_tag, tx.card_status, tx.meter_start_wh) == (
        tx_id,
        "CARD-OK",
        "Accepted",
        1_000_000.0,
    )
    for _ in range(3):
        clock.advance(minutes=10)
        await sim.sample_now()
    tx = central.charge_points()["V16-CAR"].connectors[1].transaction
    assert tx is not None
    assert tx.energy_wh == pytest.approx(16 * 3 * 230 * 0.5, abs=0.5)  # 16 A, 3 phases, 30 min
    assert (tx.current_a.l1, tx.current_a.l3, tx.phases_in_use) == (16.0, 16.0, 3)
    assert tx.power_w == 11040.0
    assert tx.soc is not None
    assert tx.voltage_v.l2 == 230.0
    clock.advance(minutes=1)
    await sim.unplug()
    await eventually(lambda: any(isinstance(e, TransactionEnded) for e in events))
    ended = next(e.transaction for e in events if isinstance(e, TransactionEnded))
    assert ended.stop_reason == "EVDisconnected"
    assert ended.energy_wh == pytest.approx(16 * 3 * 230 * 31 / 60, abs=0.5)
    assert central.charge_points()["V16-CAR"].connectors[1].transaction is None
    sessions = [
        s for s in await outbox_sessions(central.config.db_path) if s.charge_point_id == "V16-CAR"
    ]
    assert [(s.transaction_id, s.energy_wh, s.energy_flagged) for s in sessions] == [
        (tx_id, ended.energy_wh, False)
    ]


async def test_kwh_units_clock_samples_and_transaction_data(
    central: CentralSystem, clock: FakeClock
) -> None:
    async with RawCharger.connect(central.port, "V16-KWH") as raw:
        start = clock()
        await raw.call_ok(
            "MeterValues",
            {
                "connectorId": 1,
                "meterValue": [
                    {
                        "timestamp": iso(start),
                        "sampledValue": [
                            {"value": "2.000", "unit": "kWh", "context": "Sample.Clock"}
                        ],
                    }
                ],
            },
        )
        assert central.charge_points()["V16-KWH"].connectors[1].meter.energy_wh == 2000.0  # type: ignore[union-attr]
        started = await raw.call_ok(
            "StartTransaction",
            {"connectorId": 1, "idTag": "CARD-OK", "meterStart": 2000, "timestamp": iso(start)},
        )
        tx_id = started["transactionId"]
        await raw.call_ok(
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": tx_id,
                "meterValue": [
                    {
                        "timestamp": iso(start + timedelta(minutes=5)),
                        "sampledValue": [
                            {"value": "2.5", "unit": "kWh", "context": "Sample.Periodic"},
                            {"value": "3.6", "unit": "kW", "measurand": "Power.Active.Import"},
                        ],
                    }
                ],
            },
        )
        tx = central.open_transactions("V16-KWH")[0]
        assert (tx.energy_wh, tx.power_w) == (500.0, 3600.0)
        stop = await raw.call_ok(
            "StopTransaction",
            {
                "transactionId": tx_id,
                "meterStop": 3100,
                "timestamp": iso(start + timedelta(minutes=10)),
                "idTag": "CARD-OK",
                "reason": "Local",
                "transactionData": [meter_value(start + timedelta(minutes=10), 3100.0)],
            },
        )
        assert stop == {"idTagInfo": {"status": "Accepted"}}
    sessions = [
        s for s in await outbox_sessions(central.config.db_path) if s.charge_point_id == "V16-KWH"
    ]
    assert [(s.meter_start_wh, s.meter_stop_wh, s.energy_wh) for s in sessions] == [
        (2000.0, 3100.0, 1100.0)
    ]


async def test_data_transfer_firmware_and_diagnostics_notifications(central: CentralSystem) -> None:
    events = recorder(central)
    async with RawCharger.connect(central.port, "V16-NOTE") as raw:
        assert await raw.call_ok(
            "DataTransfer", {"vendorId": "com.acme", "messageId": "x", "data": "1"}
        ) == {"status": "UnknownVendorId"}
        assert await raw.call_ok("FirmwareStatusNotification", {"status": "Installed"}) == {}
        assert await raw.call_ok("DiagnosticsStatusNotification", {"status": "Uploaded"}) == {}
    notes = [(e.action, e.payload) for e in events if isinstance(e, ChargerNotified)]
    assert notes == [
        ("DataTransfer", {"vendorId": "com.acme", "messageId": "x", "data": "1"}),
        ("FirmwareStatusNotification", {"status": "Installed"}),
        ("DiagnosticsStatusNotification", {"status": "Uploaded"}),
    ]


async def test_remote_start_and_stop(central: CentralSystem, make_sim: SimFactory) -> None:
    events = recorder(central)
    sim = await make_sim("V16-REMOTE")
    assert await central.start("V16-REMOTE", 1, "CARD-OK") == "Accepted"
    await eventually(lambda: bool(central.open_transactions("V16-REMOTE")))
    assert sim.transaction is not None
    assert sim.transaction.id_tag == "CARD-OK"
    assert await central.stop("V16-REMOTE", 1) == "Accepted"
    await eventually(lambda: any(isinstance(e, TransactionEnded) for e in events))
    assert (
        next(e for e in events if isinstance(e, TransactionEnded)).transaction.stop_reason
        == "Remote"
    )


async def test_every_central_to_charger_message(
    central: CentralSystem, make_sim: SimFactory
) -> None:
    sim = await make_sim("V16-CMDS")
    send = central.send
    assert (await send("V16-CMDS", "GetConfiguration", {"key": ["NumberOfConnectors"]}))[
        "configurationKey"
    ] == [{"key": "NumberOfConnectors", "readonly": True, "value": "1"}]
    assert await send(
        "V16-CMDS", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "120"}
    ) == {"status": "Accepted"}
    assert await central.set_availability("V16-CMDS", 0, False) == "Accepted"
    await eventually(
        lambda: central.charge_points()["V16-CMDS"].connectors[1].status == "Unavailable"
    )
    assert await central.set_availability("V16-CMDS", 0, True) == "Accepted"
    limit = await central.set_current_limit("V16-CMDS", 10.26)
    assert (limit.amps, limit.purpose, limit.status, sim.limit_a) == (
        10.2,
        "TxDefaultProfile",
        "Accepted",
        10.2,
    )
    composite = await send("V16-CMDS", "GetCompositeSchedule", {"connectorId": 1, "duration": 3600})
    assert composite["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 10.2
    await central.clear_current_limit("V16-CMDS")
    assert sim.limit_a is None
    assert sim.calls("ClearChargingProfile")
    assert await send("V16-CMDS", "Reset", {"type": "Soft"}) == {"status": "Accepted"}
    assert await send("V16-CMDS", "UnlockConnector", {"connectorId": 1}) == {"status": "Unlocked"}
    assert await send("V16-CMDS", "TriggerMessage", {"requestedMessage": "StatusNotification"}) == {
        "status": "Accepted"
    }
    assert await send("V16-CMDS", "ClearCache", {}) == {"status": "Accepted"}
    assert await send("V16-CMDS", "GetLocalListVersion", {}) == {"listVersion": 0}
    assert await send(
        "V16-CMDS",
        "SendLocalList",
        {
            "listVersion": 3,
            "updateType": "Full",
            "localAuthorizationList": [{"idTag": "AB", "idTagInfo": {"status": "Blocked"}}],
        },
    ) == {"status": "Accepted"}
    assert sim.local_list == {"AB": "Blocked"}
    assert sim.local_list_version == 3
    await sim.wait_for_call("TriggerMessage")
