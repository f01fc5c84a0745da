"""Every charger-initiated message of 1.6 (edition 2 + security whitepaper) and 2.0.1 is
answered per the specification, over a real websocket; every other action of the `ocpp`
library's schemas is one a charger never sends (NotSupported, with the reason listed here).
"""

from __future__ import annotations

import os
from typing import Any

import ocpp
import pytest

from custom_components.eflux.core.central import CentralSystem, validation
from custom_components.eflux.core.central.events import (
    CentralEvent,
    ChargerNotified,
    EvChargingNeedsReported,
    ExternalLimitChanged,
    FirmwareStatusChanged,
    SecurityEventReported,
)

from .support import T0, FakeClock, RawCharger, boot_v16, boot_v201, iso

pytestmark = pytest.mark.asyncio(loop_scope="module")

NOW = iso(T0)
TOKEN = {"idToken": "CARD-OK", "type": "ISO14443"}
COMPONENT = {"component": {"name": "Connector"}, "variable": {"name": "Problem"}}

V16_FROM_CHARGER: dict[str, dict[str, Any]] = {
    "Authorize": {"idTag": "CARD-OK"},
    "BootNotification": boot_v16(),
    "DataTransfer": {"vendorId": "acme"},
    "DiagnosticsStatusNotification": {"status": "Uploaded"},
    "FirmwareStatusNotification": {"status": "Downloading"},
    "Heartbeat": {},
    "MeterValues": {
        "connectorId": 1,
        "meterValue": [{"timestamp": NOW, "sampledValue": [{"value": "10"}]}],
    },
    "StartTransaction": {"connectorId": 1, "idTag": "CARD-OK", "meterStart": 0, "timestamp": NOW},
    "StatusNotification": {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
    "StopTransaction": {"meterStop": 10, "timestamp": NOW, "transactionId": 999_999},
    # security whitepaper
    "LogStatusNotification": {"status": "Uploading", "requestId": 3},
    "SecurityEventNotification": {"type": "FirmwareUpdated", "timestamp": NOW},
    "SignCertificate": {"csr": "-----BEGIN CERTIFICATE REQUEST-----"},
    "SignedFirmwareStatusNotification": {"status": "SignatureVerified", "requestId": 9},
}

V201_FROM_CHARGER: dict[str, dict[str, Any]] = {
    "Authorize": {"idToken": TOKEN},
    "BootNotification": boot_v201(),
    "ClearedChargingLimit": {"chargingLimitSource": "EMS", "evseId": 1},
    "DataTransfer": {"vendorId": "acme"},
    "FirmwareStatusNotification": {"status": "Downloading", "requestId": 4},
    "Get15118EVCertificate": {
        "iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef",
        "action": "Install",
        "exiRequest": "AAAA",
    },
    "GetCertificateStatus": {
        "ocspRequestData": {
            "hashAlgorithm": "SHA256",
            "issuerNameHash": "a",
            "issuerKeyHash": "b",
            "serialNumber": "c",
            "responderURL": "http://ocsp.example",
        }
    },
    "Heartbeat": {},
    "LogStatusNotification": {"status": "Uploaded", "requestId": 1},
    "MeterValues": {
        "evseId": 1,
        "meterValue": [{"timestamp": NOW, "sampledValue": [{"value": 10.0}]}],
    },
    "NotifyChargingLimit": {
        "chargingLimit": {"chargingLimitSource": "EMS", "isGridCritical": False},
        "evseId": 1,
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "A",
                "startSchedule": NOW,
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
            }
        ],
    },
    "NotifyCustomerInformation": {
        "data": "nothing stored",
        "seqNo": 0,
        "generatedAt": NOW,
        "requestId": 2,
    },
    "NotifyDisplayMessages": {"requestId": 5},
    "NotifyEVChargingNeeds": {
        "evseId": 1,
        "chargingNeeds": {
            "requestedEnergyTransfer": "AC_three_phase",
            "departureTime": iso(T0.replace(hour=17)),
            "acChargingParameters": {
                "energyAmount": 20000,
                "evMinCurrent": 6,
                "evMaxCurrent": 16,
                "evMaxVoltage": 400,
            },
        },
    },
    "NotifyEVChargingSchedule": {
        "timeBase": NOW,
        "evseId": 1,
        "chargingSchedule": {
            "id": 1,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        },
    },
    "NotifyEvent": {
        "generatedAt": NOW,
        "seqNo": 0,
        "eventData": [
            {
                "eventId": 1,
                "timestamp": NOW,
                "trigger": "Alerting",
                "actualValue": "true",
                "eventNotificationType": "HardWiredNotification",
                **COMPONENT,
            }
        ],
    },
    "NotifyMonitoringReport": {"requestId": 6, "seqNo": 0, "generatedAt": NOW},
    "NotifyReport": {
        "requestId": 7,
        "generatedAt": NOW,
        "seqNo": 0,
        "reportData": [
            {
                "component": {"name": "DeviceDataCtrlr"},
                "variable": {"name": "ItemsPerMessage", "instance": "GetVariables"},
                "variableAttribute": [{"type": "Actual", "value": "4"}],
            }
        ],
    },
    "PublishFirmwareStatusNotification": {"status": "Published", "requestId": 8},
    "ReportChargingProfiles": {
        "requestId": 9,
        "chargingLimitSource": "CSO",
        "evseId": 1,
        "chargingProfile": [
            {
                "id": 5,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32.0}],
                    }
                ],
            }
        ],
    },
    "ReservationStatusUpdate": {"reservationId": 424242, "reservationUpdateStatus": "Expired"},
    "SecurityEventNotification": {"type": "TamperDetectionActivated", "timestamp": NOW},
    "SignCertificate": {"csr": "-----BEGIN CERTIFICATE REQUEST-----"},
    "StatusNotification": {
        "timestamp": NOW,
        "connectorStatus": "Available",
        "evseId": 1,
        "connectorId": 1,
    },
    "TransactionEvent": {
        "eventType": "Started",
        "timestamp": NOW,
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "MSG-TX-1"},
        "idToken": TOKEN,
        "evse": {"id": 1, "connectorId": 1},
    },
}

# Actions of the schemas that only a central system sends: a charger sending one gets
# NotSupported ("known, not taken from a charger").
V16_FROM_CENTRAL = {
    "CancelReservation", "CertificateSigned", "ChangeAvailability", "ChangeConfiguration",
    "ClearCache", "ClearChargingProfile", "DeleteCertificate", "ExtendedTriggerMessage",
    "GetCompositeSchedule", "GetConfiguration", "GetDiagnostics", "GetInstalledCertificateIds",
    "GetLocalListVersion", "GetLog", "InstallCertificate", "RemoteStartTransaction",
    "RemoteStopTransaction", "ReserveNow", "Reset", "SendLocalList", "SetChargingProfile",
    "SignedUpdateFirmware", "TriggerMessage", "UnlockConnector", "UpdateFirmware",
}  # fmt: skip
V201_FROM_CENTRAL = {
    "CancelReservation", "CertificateSigned", "ChangeAvailability", "ClearCache",
    "ClearChargingProfile", "ClearDisplayMessage", "ClearVariableMonitoring", "CostUpdated",
    "CustomerInformation", "DeleteCertificate", "GetBaseReport", "GetChargingProfiles",
    "GetCompositeSchedule", "GetDisplayMessages", "GetInstalledCertificateIds",
    "GetLocalListVersion", "GetLog", "GetMonitoringReport", "GetReport", "GetTransactionStatus",
    "GetVariables", "InstallCertificate", "PublishFirmware", "RequestStartTransaction",
    "RequestStopTransaction", "ReserveNow", "Reset", "SendLocalList", "SetChargingProfile",
    "SetDisplayMessage", "SetMonitoringBase", "SetMonitoringLevel", "SetNetworkProfile",
    "SetVariableMonitoring", "SetVariables", "TriggerMessage", "UnlockConnector",
    "UnpublishFirmware", "UpdateFirmware",
}  # fmt: skip
FROM_CHARGER = {"1.6": V16_FROM_CHARGER, "2.0.1": V201_FROM_CHARGER}
FROM_CENTRAL = {"1.6": V16_FROM_CENTRAL, "2.0.1": V201_FROM_CENTRAL}


def schema_actions(version: str) -> set[str]:
    """Every request the `ocpp` library has a schema for."""
    folder = os.path.join(os.path.dirname(ocpp.__file__), "v16" if version == "1.6" else "v201")
    names = os.listdir(os.path.join(folder, "schemas"))
    if version == "1.6":
        return {n.removesuffix(".json") for n in names if not n.endswith("Response.json")}
    return {n.removesuffix("Request.json") for n in names if n.endswith("Request.json")}


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_every_schema_action_is_sorted_into_from_charger_or_from_central(
    version: str,
) -> None:
    actions = schema_actions(version)
    assert actions == set(FROM_CHARGER[version]) | FROM_CENTRAL[version]
    assert not set(FROM_CHARGER[version]) & FROM_CENTRAL[version]


CASES = [(v, a) for v in ("1.6", "2.0.1") for a in sorted(FROM_CHARGER[v])]


@pytest.mark.parametrize(("version", "action"), CASES)
async def test_each_charger_message_gets_a_spec_answer(
    central: CentralSystem, version: str, action: str
) -> None:
    async with RawCharger.connect(central.port, f"MSG-{version}-{action}", version) as raw:
        answer = await raw.call(action, FROM_CHARGER[version][action])
        assert answer[0] == 3, f"{action} answered {answer}"
        validation.check(version, 3, action, answer[2])  # raises on an off-schema answer


FROM_CENTRAL_CASES = [(v, a) for v in ("1.6", "2.0.1") for a in sorted(FROM_CENTRAL[v])]


@pytest.mark.parametrize(("version", "action"), FROM_CENTRAL_CASES)
async def test_central_system_messages_sent_by_a_charger_are_not_supported(
    central: CentralSystem, version: str, action: str
) -> None:
    async with RawCharger.connect(central.port, f"REV-{version}", version) as raw:
        answer = await raw.call(action, {})
        assert answer[:3] == [4, answer[1], "NotSupported"]


def recorder(central: CentralSystem) -> list[CentralEvent]:
    events: list[CentralEvent] = []
    central.add_listener(events.append)
    return events


async def test_v201_reports_needs_and_limits_reach_the_charger_state(
    central: CentralSystem, clock: FakeClock
) -> None:
    events = recorder(central)
    payloads = V201_FROM_CHARGER
    async with RawCharger.connect(central.port, "MSG-STATE", "2.0.1") as raw:
        await raw.call_ok("NotifyReport", payloads["NotifyReport"])
        await raw.call_ok("NotifyEVChargingNeeds", payloads["NotifyEVChargingNeeds"])
        await raw.call_ok("NotifyChargingLimit", payloads["NotifyChargingLimit"])
        await raw.call_ok("ReportChargingProfiles", payloads["ReportChargingProfiles"])
        state = central.charge_points()["MSG-STATE"]
        assert state.configuration["DeviceDataCtrlr.ItemsPerMessage[GetVariables]"] == "4"
        needs = state.connectors[1].ev_needs
        assert needs is not None
        assert needs.departure_at == T0.replace(hour=17)
        assert needs.energy_wh == 20000
        assert (needs.min_current_a, needs.max_current_a) == (6, 16)
        assert state.external_limit(1, clock()) == (10.0, "A")
        assert state.external_limit(2, clock()) is None  # another EVSE: not limited
        [(evse, profiles)] = state.reported_profiles.items()
        assert evse == 1
        assert profiles[0]["id"] == 5

        # the whole station limited by the grid operator at 8 A from an hour on
        await raw.call_ok(
            "NotifyChargingLimit",
            {
                "chargingLimit": {"chargingLimitSource": "SO", "isGridCritical": True},
                "chargingSchedule": [
                    {
                        "id": 2,
                        "chargingRateUnit": "A",
                        "startSchedule": iso(clock()),
                        "chargingSchedulePeriod": [
                            {"startPeriod": 0, "limit": 20.0},
                            {"startPeriod": 3600, "limit": 8.0},
                        ],
                    }
                ],
            },
        )
        state = central.charge_points()["MSG-STATE"]
        assert state.external_limit(1, clock()) == (10.0, "A")  # the lower one holds
        later = clock() + (T0.replace(hour=9) - T0)
        assert state.external_limit(1, later) == (8.0, "A")
        assert state.external_limit(2, clock()) == (20.0, "A")

        await raw.call_ok("ClearedChargingLimit", {"chargingLimitSource": "EMS", "evseId": 1})
        state = central.charge_points()["MSG-STATE"]
        assert state.external_limit(1, clock()) == (20.0, "A")
        await raw.call_ok("ClearedChargingLimit", {"chargingLimitSource": "SO"})
        assert central.charge_points()["MSG-STATE"].external_limit(1, clock()) is None

        # a new profile report replaces the old one
        report = {**payloads["ReportChargingProfiles"], "requestId": 10, "evseId": 2}
        await raw.call_ok("ReportChargingProfiles", report)
        assert set(central.charge_points()["MSG-STATE"].reported_profiles) == {2}

    kinds = [type(e) for e in events if e.charge_point_id == "MSG-STATE"]
    assert kinds.count(EvChargingNeedsReported) == 1
    assert kinds.count(ExternalLimitChanged) == 4


async def test_ev_needs_end_with_the_transaction(central: CentralSystem) -> None:
    started = dict(V201_FROM_CHARGER["TransactionEvent"])
    started["transactionInfo"] = {"transactionId": "NEEDS-TX"}
    async with RawCharger.connect(central.port, "MSG-NEEDS", "2.0.1") as raw:
        await raw.call_ok("TransactionEvent", started)
        await raw.call_ok("NotifyEVChargingNeeds", V201_FROM_CHARGER["NotifyEVChargingNeeds"])
        assert central.charge_points()["MSG-NEEDS"].connectors[1].ev_needs is not None
        ended = {
            **started,
            "eventType": "Ended",
            "seqNo": 1,
            "triggerReason": "EVDeparted",
            "transactionInfo": {"transactionId": "NEEDS-TX", "stoppedReason": "EVDisconnected"},
        }
        await raw.call_ok("TransactionEvent", ended)
        assert central.charge_points()["MSG-NEEDS"].connectors[1].ev_needs is None


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_security_events_and_firmware_statuses_become_events(
    central: CentralSystem, version: str
) -> None:
    events = recorder(central)
    cp_id = f"MSG-SEC-{version}"
    payloads = FROM_CHARGER[version]
    async with RawCharger.connect(central.port, cp_id, version) as raw:
        await raw.call_ok("SecurityEventNotification", payloads["SecurityEventNotification"])
        await raw.call_ok("FirmwareStatusNotification", {"status": "DownloadFailed"})
        await raw.call_ok("LogStatusNotification", payloads["LogStatusNotification"])
        certificate = await raw.call_ok("SignCertificate", payloads["SignCertificate"])
        assert certificate["status"] == "Rejected"  # no CA here: refused, not "unsupported"
    mine = [e for e in events if e.charge_point_id == cp_id]
    [security] = [e for e in mine if isinstance(e, SecurityEventReported)]
    assert security.kind == payloads["SecurityEventNotification"]["type"]
    assert security.occurred_at == T0
    [firmware] = [e for e in mine if isinstance(e, FirmwareStatusChanged)]
    assert (firmware.status, firmware.update) == ("DownloadFailed", None)  # not ours
    assert [e.action for e in mine if isinstance(e, ChargerNotified)] == [
        "FirmwareStatusNotification",
        "LogStatusNotification",
        "SignCertificate",
    ]
