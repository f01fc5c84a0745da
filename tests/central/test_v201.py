"""OCPP 2.0.1 over real websockets: every charger -> central and central -> charger message."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from custom_components.eflux.core.central import (
    CentralEvent,
    CentralSystem,
    ChargerNotified,
    TransactionEnded,
    TransactionStarted,
)

from .conftest import SimFactory
from .support import FakeClock, RawCharger, eventually, iso, outbox_sessions

pytestmark = pytest.mark.asyncio(loop_scope="module")


def recorder(central: CentralSystem) -> list[CentralEvent]:
    events: list[CentralEvent] = []
    central.add_listener(events.append)
    return events


def event(
    kind: str, tx_id: str, at: Any, seq: int, wh: float | None = None, **extra: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "eventType": kind,
        "timestamp": iso(at),
        "triggerReason": "MeterValuePeriodic",
        "seqNo": seq,
        "transactionInfo": {"transactionId": tx_id},
        **extra,
    }
    if wh is not None:
        payload["meterValue"] = [
            {
                "timestamp": iso(at),
                "sampledValue": [{"value": wh, "measurand": "Energy.Active.Import.Register"}],
            }
        ]
    return payload


async def test_boot_reads_and_sets_variables(central: CentralSystem, make_sim: SimFactory) -> None:
    sim = await make_sim("V201-BOOT", "2.0.1", firmware="2.1", serial="S1")
    await eventually(
        lambda: (
            "Current.Import"
            in central.charge_points()["V201-BOOT"].configuration.get(
                "SampledDataCtrlr.TxUpdatedMeasurands", ""
            )
        )
    )
    state = central.charge_points()["V201-BOOT"]
    assert (state.vendor, state.model, state.firmware, state.serial, state.ocpp_version) == (
        "E-Flux",
        "SimCharger",
        "2.1",
        "S1",
        "2.0.1",
    )
    assert state.configuration["SampledDataCtrlr.TxUpdatedInterval"] == "10"
    assert state.allowed_rate_units == ("A", "W")
    assert state.max_stack_level == 8
    assert sim.configuration["SampledDataCtrlr.TxUpdatedInterval"] == "10"


async def test_heartbeat_status_authorize_notify(central: CentralSystem, clock: FakeClock) -> None:
    events = recorder(central)
    async with RawCharger.connect(central.port, "V201-RAW", "2.0.1") as raw:
        assert "currentTime" in await raw.call_ok("Heartbeat", {})
        await raw.call_ok(
            "StatusNotification",
            {
                "timestamp": iso(clock()),
                "connectorStatus": "Faulted",
                "evseId": 1,
                "connectorId": 1,
            },
        )
        assert central.charge_points()["V201-RAW"].connectors[1].status == "Faulted"
        accepted = await raw.call_ok(
            "Authorize", {"idToken": {"idToken": "CARD-OK", "type": "ISO14443"}}
        )
        assert accepted["idTokenInfo"]["status"] == "Accepted"
        assert "cacheExpiryDateTime" in accepted["idTokenInfo"]
        unknown = await raw.call_ok(
            "Authorize", {"idToken": {"idToken": "NOPE", "type": "ISO14443"}}
        )
        assert unknown == {"idTokenInfo": {"status": "Invalid"}}
        assert (
            await raw.call_ok(
                "NotifyEvent",
                {
                    "generatedAt": iso(clock()),
                    "seqNo": 0,
                    "eventData": [
                        {
                            "eventId": 1,
                            "timestamp": iso(clock()),
                            "trigger": "Alerting",
                            "actualValue": "true",
                            "eventNotificationType": "HardWiredNotification",
                            "component": {"name": "Connector"},
                            "variable": {"name": "Problem"},
                        }
                    ],
                },
            )
            == {}
        )
        assert await raw.call_ok("FirmwareStatusNotification", {"status": "Installed"}) == {}
        assert await raw.call_ok("DataTransfer", {"vendorId": "x"}) == {"status": "UnknownVendorId"}
    assert [e.action for e in events if isinstance(e, ChargerNotified)] == [
        "NotifyEvent",
        "FirmwareStatusNotification",
        "DataTransfer",
    ]


async def test_a_session_started_updated_ended_by_a_car(
    central: CentralSystem, make_sim: SimFactory, clock: FakeClock
) -> None:
    sim = await make_sim("V201-CAR", "2.0.1")
    await eventually(
        lambda: "Current.Import" in sim.configuration["SampledDataCtrlr.TxUpdatedMeasurands"]
    )
    tx_id = await sim.plug_in("CARD-OK")
    tx = central.open_transactions("V201-CAR")[0]
    assert (tx.id, tx.id_tag, tx.card_status, tx.meter_start_wh) == (
        tx_id,
        "CARD-OK",
        "Accepted",
        1_000_000.0,
    )
    limit = await central.set_current_limit("V201-CAR", 8.0, phases=3)
    assert (limit.purpose, sim.limit_a) == ("TxProfile", 8.0)
    clock.advance(minutes=30)
    await sim.sample_now()
    tx = central.open_transactions("V201-CAR")[0]
    assert tx.energy_wh == pytest.approx(8 * 3 * 230 * 0.5, abs=0.5)  # 8 A on 3 phases, 30 min
    assert tx.current_a.l1 == 8.0
    clock.advance(minutes=30)
    await sim.unplug()
    await eventually(lambda: not central.open_transactions("V201-CAR"))
    [session] = [
        s for s in await outbox_sessions(central.config.db_path) if s.charge_point_id == "V201-CAR"
    ]
    assert session.energy_wh == pytest.approx(8 * 3 * 230 * 1.0, abs=0.5)
    assert session.stop_reason == "EVDisconnected"


async def test_cable_first_token_later_and_events_for_unknown_transactions(
    central: CentralSystem, clock: FakeClock
) -> None:
    events = recorder(central)
    t = clock()
    async with RawCharger.connect(central.port, "V201-EV", "2.0.1") as raw:
        assert (
            await raw.call_ok(
                "TransactionEvent", event("Started", "T-1", t, 0, 100.0, evse={"id": 1})
            )
            == {}
        )
        tx = central.open_transactions("V201-EV")[0]
        assert (tx.id_tag, tx.card_status, tx.meter_start_wh) == (None, "NoToken", 100.0)
        authorized = await raw.call_ok(
            "TransactionEvent",
            event(
                "Updated",
                "T-1",
                t + timedelta(minutes=1),
                1,
                150.0,
                idToken={"idToken": "CARD-OK", "type": "ISO14443"},
            ),
        )
        assert authorized["idTokenInfo"]["status"] == "Accepted"
        assert central.open_transactions("V201-EV")[0].id_tag == "CARD-OK"
        await raw.call_ok(
            "MeterValues",
            {
                "evseId": 1,
                "meterValue": [
                    {"timestamp": iso(t + timedelta(minutes=2)), "sampledValue": [{"value": 210.0}]}
                ],
            },
        )
        assert central.open_transactions("V201-EV")[0].energy_wh == 110.0
        await raw.call_ok(
            "TransactionEvent",
            event(
                "Ended",
                "T-1",
                t + timedelta(minutes=3),
                2,
                260.0,
                transactionInfo={"transactionId": "T-1", "stoppedReason": "EVDisconnected"},
            ),
        )
        # an Ended whose Started never arrived still makes a whole session
        await raw.call_ok(
            "TransactionEvent",
            event(
                "Ended",
                "T-LOST",
                t + timedelta(minutes=9),
                5,
                None,
                evse={"id": 1},
                meterValue=[
                    {
                        "timestamp": iso(t + timedelta(minutes=4)),
                        "sampledValue": [{"value": 400.0}],
                    },
                    {
                        "timestamp": iso(t + timedelta(minutes=9)),
                        "sampledValue": [{"value": 900.0}],
                    },
                ],
            ),
        )
    ended = {e.transaction.id: e.transaction for e in events if isinstance(e, TransactionEnded)}
    assert ended["T-1"].energy_wh == 160.0
    assert ended["T-1"].stop_reason == "EVDisconnected"
    assert (ended["T-LOST"].started_at, ended["T-LOST"].energy_wh) == (
        t + timedelta(minutes=4),
        500.0,
    )
    assert sum(isinstance(e, TransactionStarted) for e in events) == 2


async def test_every_central_to_charger_message(
    central: CentralSystem, make_sim: SimFactory
) -> None:
    sim = await make_sim("V201-CMDS", "2.0.1")
    assert await central.start("V201-CMDS", 1, "CARD-OK") == "Accepted"
    await eventually(lambda: bool(central.open_transactions("V201-CMDS")))
    assert sim.calls("RequestStartTransaction")[0]["idToken"] == {
        "idToken": "CARD-OK",
        "type": "ISO14443",
    }
    assert (
        await central.stop("V201-CMDS", central.open_transactions("V201-CMDS")[0].id) == "Accepted"
    )
    await eventually(lambda: not central.open_transactions("V201-CMDS"))
    limit = await central.set_current_limit("V201-CMDS", 12.0)
    assert (limit.purpose, sim.limit_a) == ("TxDefaultProfile", 12.0)
    await central.clear_current_limit("V201-CMDS")
    assert sim.limit_a is None
    variables = await central.send(
        "V201-CMDS",
        "GetVariables",
        {
            "getVariableData": [
                {"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": "RateUnit"}}
            ]
        },
    )
    assert variables["getVariableResult"][0]["attributeValue"] == "A,W"
    assert (
        await central.send(
            "V201-CMDS",
            "SetVariables",
            {
                "setVariableData": [
                    {
                        "attributeValue": "30",
                        "component": {"name": "SampledDataCtrlr"},
                        "variable": {"name": "TxUpdatedInterval"},
                    }
                ]
            },
        )
    )["setVariableResult"][0]["attributeStatus"] == "Accepted"
    assert await central.send("V201-CMDS", "Reset", {"type": "OnIdle"}) == {"status": "Accepted"}
    assert await central.set_availability("V201-CMDS", 1, False) == "Accepted"
    assert sim.calls("ChangeAvailability")[-1] == {
        "operationalStatus": "Inoperative",
        "evse": {"id": 1},
    }
    await central.set_availability("V201-CMDS", 1, True)
    assert await central.send(
        "V201-CMDS",
        "SendLocalList",
        {
            "versionNumber": 4,
            "updateType": "Full",
            "localAuthorizationList": [
                {
                    "idToken": {"idToken": "X1", "type": "ISO14443"},
                    "idTokenInfo": {"status": "Blocked"},
                }
            ],
        },
    ) == {"status": "Accepted"}
    assert sim.local_list == {"X1": "Blocked"}
    assert await central.send("V201-CMDS", "GetLocalListVersion", {}) == {"versionNumber": 4}
    safe = await central.set_safe_limit("V201-CMDS", 6.0, timedelta(minutes=15))
    profile = sim.calls("SetChargingProfile")[-1]["chargingProfile"]
    assert (profile["chargingProfilePurpose"], sim.profiles.profiles[1].limits) == (
        "ChargingStationMaxProfile",
        (63.0, 6.0),
    )
    assert "validTo" not in profile  # a fallback for good once the schedule gets there
    assert [p["limit"] for p in profile["chargingSchedule"][0]["chargingSchedulePeriod"]] == [
        63.0,  # no cap (normal_amps not given) until the safe current takes over
        6.0,
    ]
    assert safe.purpose == "ChargePointMaxProfile"
    assert central.charge_points()["V201-CMDS"].safe_limit == safe


async def test_custom_data_is_allowed_everywhere(central: CentralSystem, clock: FakeClock) -> None:
    custom = {"customData": {"vendorId": "com.acme", "note": 1}}
    async with RawCharger.connect(central.port, "V201-CUSTOM", "2.0.1") as raw:
        assert "currentTime" in await raw.call_ok("Heartbeat", custom)
        await raw.call_ok(
            "StatusNotification",
            {
                "timestamp": iso(clock()),
                "connectorStatus": "Available",
                "evseId": 1,
                "connectorId": 1,
                **custom,
            },
        )
        await raw.call_ok(
            "MeterValues",
            {
                "evseId": 1,
                "meterValue": [{"timestamp": iso(clock()), "sampledValue": [{"value": 5.0}]}],
                **custom,
            },
        )
    assert central.charge_points()["V201-CUSTOM"].connectors[1].status == "Available"
