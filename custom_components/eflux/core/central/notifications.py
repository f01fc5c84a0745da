"""Charger-initiated messages beyond transactions: reports, limits, needs, security, logs.

Every CALL a charger may send in 1.6 (edition 2 plus the security whitepaper) and 2.0.1 has a
handler that answers as the specification says. What the product acts on is kept in the
charger's state (`reports.py`): the EV's charging needs per connector (the planner), external
charging limits per charger (the balancer), reported variables and profiles (capabilities).
The rest goes to the logbook as `ChargerNotified`; security events get an event of their own.

There is no certificate authority here: certificate requests are answered with the status the
specification gives for "cannot do that now" (Rejected / Failed), not with NotSupported.
"""

from __future__ import annotations

import logging
from typing import Any

from .events import SecurityEventReported
from .reports import (
    clear_external_limit,
    save_ev_needs,
    save_external_limit,
    save_reported_profiles,
    save_reported_variables,
)
from .rpc import OcppSession, on
from .timeutil import parse_timestamp

_LOGGER = logging.getLogger(__name__)
NO_CA = {"reasonCode": "NoCA", "additionalInfo": "this central system signs no certificates"}


class SecurityHandlers(OcppSession):
    """Alike in the 1.6 security extension and 2.0.1."""

    @on("SecurityEventNotification")
    def on_security_event_notification(
        self, type: str, timestamp: str, **extra: Any
    ) -> dict[str, Any]:
        occurred = parse_timestamp(timestamp)
        tech_info = extra.get("tech_info")
        _LOGGER.warning("%s: security event %s (%s)", self.id, type, tech_info or "no details")
        self.hub.bus.emit(
            SecurityEventReported(self.id, self.hub.clock(), type, occurred, tech_info)
        )
        return {}

    @on("LogStatusNotification")
    def on_log_status_notification(self, status: str, **extra: Any) -> dict[str, Any]:
        self.notify(
            "LogStatusNotification", {"status": status, "requestId": extra.get("request_id")}
        )
        return {}

    @on("SignCertificate")
    def on_sign_certificate(self, csr: str, **extra: Any) -> dict[str, Any]:
        kind = extra.get("certificate_type", "ChargingStationCertificate")
        self.notify("SignCertificate", {"certificateType": kind, "csrLength": len(csr)})
        if self.ocpp_version == "1.6":
            return {"status": "Rejected"}
        return {"status": "Rejected", "statusInfo": NO_CA}


class V16Notifications(SecurityHandlers):
    @on("SignedFirmwareStatusNotification")
    def on_signed_firmware_status(self, status: str, **extra: Any) -> dict[str, Any]:
        self.firmware_status(status, extra.get("request_id"), "SignedFirmwareStatusNotification")
        return {}


class V201Notifications(SecurityHandlers):
    profile_report_id: int | None = None  # the GetChargingProfiles requestId being reported

    @on("NotifyReport")
    async def on_notify_report(
        self, request_id: int, generated_at: str, seq_no: int, **extra: Any
    ) -> dict[str, Any]:
        await save_reported_variables(self.hub, self.id, extra.get("report_data") or [])
        return {}

    @on("ReportChargingProfiles")
    def on_report_charging_profiles(
        self,
        request_id: int,
        charging_limit_source: str,
        charging_profile: list[dict[str, Any]],
        evse_id: int,
        **extra: Any,
    ) -> dict[str, Any]:
        new_report = request_id != self.profile_report_id
        self.profile_report_id = request_id
        save_reported_profiles(self.hub, self.id, evse_id, charging_profile, new_report=new_report)
        return {}

    @on("NotifyEVChargingNeeds")
    def on_notify_ev_charging_needs(
        self, charging_needs: dict[str, Any], evse_id: int, **_: Any
    ) -> dict[str, Any]:
        save_ev_needs(self.hub, self.id, evse_id, charging_needs)
        # Accepted: the central sends the profiles (the balancer's TxProfiles) itself.
        return {"status": "Accepted"}

    @on("NotifyEVChargingSchedule")
    def on_notify_ev_charging_schedule(
        self, time_base: str, charging_schedule: dict[str, Any], evse_id: int, **_: Any
    ) -> dict[str, Any]:
        self.notify("NotifyEVChargingSchedule", {"evseId": evse_id, "timeBase": time_base})
        return {"status": "Accepted"}

    @on("NotifyChargingLimit")
    def on_notify_charging_limit(
        self, charging_limit: dict[str, Any], **extra: Any
    ) -> dict[str, Any]:
        schedules = extra.get("charging_schedule") or []
        save_external_limit(
            self.hub,
            self.id,
            int(extra.get("evse_id") or 0),
            charging_limit,
            schedules[0] if schedules else None,
        )
        return {}

    @on("ClearedChargingLimit")
    def on_cleared_charging_limit(self, charging_limit_source: str, **extra: Any) -> dict[str, Any]:
        clear_external_limit(
            self.hub, self.id, int(extra.get("evse_id") or 0), charging_limit_source
        )
        return {}

    @on("NotifyMonitoringReport")
    def on_notify_monitoring_report(
        self, request_id: int, seq_no: int, generated_at: str, **extra: Any
    ) -> dict[str, Any]:
        monitors = extra.get("monitor") or []
        self.notify(
            "NotifyMonitoringReport",
            {"requestId": request_id, "seqNo": seq_no, "monitors": len(monitors)},
        )
        return {}

    @on("NotifyCustomerInformation")
    def on_notify_customer_information(
        self, data: str, seq_no: int, generated_at: str, request_id: int, **_: Any
    ) -> dict[str, Any]:
        self.notify(
            "NotifyCustomerInformation", {"requestId": request_id, "seqNo": seq_no, "data": data}
        )
        return {}

    @on("NotifyDisplayMessages")
    def on_notify_display_messages(self, request_id: int, **extra: Any) -> dict[str, Any]:
        messages = extra.get("message_info") or []
        self.notify("NotifyDisplayMessages", {"requestId": request_id, "messages": len(messages)})
        return {}

    @on("PublishFirmwareStatusNotification")
    def on_publish_firmware_status(self, status: str, **extra: Any) -> dict[str, Any]:
        # A local controller publishing firmware to the stations behind it: logbook only.
        self.notify(
            "PublishFirmwareStatusNotification",
            {"status": status, "requestId": extra.get("request_id")},
        )
        return {}

    @on("Get15118EVCertificate")
    def on_get_15118_ev_certificate(
        self, iso15118_schema_version: str, action: str, exi_request: str, **_: Any
    ) -> dict[str, Any]:
        self.notify("Get15118EVCertificate", {"action": action})
        return {"status": "Failed", "exiResponse": "", "statusInfo": NO_CA}

    @on("GetCertificateStatus")
    def on_get_certificate_status(self, ocsp_request_data: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Failed", "statusInfo": {"reasonCode": "NoOCSP"}}
