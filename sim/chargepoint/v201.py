"""OCPP 2.0.1 client side of the simulated charger (the `ocpp` library's ChargePoint)."""

from __future__ import annotations

from typing import Any

from ocpp.exceptions import FormatViolationError, OccurrenceConstraintViolationError
from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result

from .adapter import ProtocolAdapter
from .firmware import install
from .profiles import CP_MAX, SimProfile, schedule_fields
from .reservations import SimReservation
from .sampling import SUPPORTED, measurands_from, sampled_values
from .timefmt import iso, parse
from .transaction import SimSample, SimTransaction

LIMITS = (
    "DeviceDataCtrlr.ItemsPerMessage[GetVariables]",
    "DeviceDataCtrlr.ItemsPerMessage[SetVariables]",
    "DeviceDataCtrlr.BytesPerMessage[GetVariables]",
    "DeviceDataCtrlr.BytesPerMessage[SetVariables]",
)
READ_ONLY = {"SmartChargingCtrlr.RateUnit", "SmartChargingCtrlr.ProfileStackLevel", *LIMITS}


def default_variables() -> dict[str, str]:
    return {
        "SampledDataCtrlr.TxUpdatedInterval": "60",
        "SampledDataCtrlr.TxUpdatedMeasurands": "Energy.Active.Import.Register",
        "SmartChargingCtrlr.RateUnit": "A,W",
        "SmartChargingCtrlr.ProfileStackLevel": "8",
        "SmartChargingCtrlr.PeriodsPerSchedule": "24",
        "LocalAuthListCtrlr.Enabled": "true",
        "LocalAuthListCtrlr.ItemsPerMessage": "50",
        "ReservationCtrlr.Enabled": "true",
        "TariffCostCtrlr.Currency": "EUR",
        LIMITS[0]: "16",
        LIMITS[1]: "16",
        LIMITS[2]: "8192",
        LIMITS[3]: "8192",
    }


class V201Adapter(ProtocolAdapter, ChargePoint):  # type: ignore[misc]
    subprotocol = "ocpp2.0.1"

    def defaults(self) -> dict[str, str]:
        return default_variables()

    # ---- charger -> central -----------------------------------------------------------------
    async def boot(self) -> int:
        sim = self.sim
        station: dict[str, Any] = {"model": sim.model, "vendorName": sim.vendor}
        if sim.serial:
            station["serialNumber"] = sim.serial
        station["firmwareVersion"] = sim.firmware
        result = await self.request(
            call.BootNotification(charging_station=station, reason="PowerUp")
        )
        return int(result.interval)

    async def heartbeat(self) -> None:
        await self.request(call.Heartbeat())

    async def status(self, connector_id: int, status: str) -> None:
        await self.request(
            call.StatusNotification(
                timestamp=iso(self.sim.clock()),
                connector_status=_connector_status(status),
                evse_id=connector_id,
                connector_id=1,
            )
        )

    async def authorize(self, id_tag: str) -> str:
        result = await self.request(
            call.Authorize(id_token={"idToken": id_tag, "type": "ISO14443"})
        )
        return str(result.id_token_info["status"])

    def _event(
        self,
        tx: SimTransaction,
        event_type: str,
        trigger: str,
        sample: SimSample,
        **extra: Any,
    ) -> Any:
        info: dict[str, Any] = {"transactionId": tx.id}
        if "stopped_reason" in extra:
            info["stoppedReason"] = extra.pop("stopped_reason")
        if tx.remote_start_id is not None and event_type == "Started":
            info["remoteStartId"] = tx.remote_start_id
        return call.TransactionEvent(
            event_type=event_type,
            timestamp=iso(sample.timestamp),
            trigger_reason=trigger,
            seq_no=tx.next_seq(),
            transaction_info=info,
            meter_value=[
                {"timestamp": iso(sample.timestamp), "sampledValue": self._values(sample)}
            ],
            evse={"id": tx.connector_id, "connectorId": 1},
            **extra,
        )

    def start_message(self, tx: SimTransaction) -> Any:
        sample = self.sim.sample(context="Transaction.Begin")
        token = {"idToken": tx.id_tag, "type": "ISO14443"} if tx.id_tag else None
        trigger = "RemoteStart" if tx.remote_start_id is not None else "Authorized"
        return self._event(
            tx, "Started", trigger, sample, id_token=token, reservation_id=tx.reservation_id
        )

    def start_result(self, tx: SimTransaction, result: Any) -> None:
        info = result.id_token_info or {}
        tx.card_status = info.get("status")

    def update_message(self, tx: SimTransaction, sample: SimSample, tx_id: str) -> Any:
        return self._event(tx, "Updated", "MeterValuePeriodic", sample)

    def stop_message(self, tx: SimTransaction, sample: SimSample, reason: str) -> Any:
        stopped = {"Remote": "Remote", "EVDisconnected": "EVDisconnected"}.get(reason, "Local")
        trigger = "RemoteStop" if reason == "Remote" else "EVCommunicationLost"
        if reason == "EVDisconnected":
            trigger = "EVDeparted"
        return self._event(tx, "Ended", trigger, sample, stopped_reason=stopped)

    def meter_message(self, connector_id: int, sample: SimSample, tx_id: str | None) -> Any:
        return call.MeterValues(
            evse_id=connector_id,
            meter_value=[
                {"timestamp": iso(sample.timestamp), "sampledValue": self._values(sample)}
            ],
        )

    def _values(self, sample: SimSample) -> list[dict[str, Any]]:
        measurands = measurands_from(
            self.sim.configuration.get("SampledDataCtrlr.TxUpdatedMeasurands")
        )
        return sampled_values(sample, measurands, self.sim.behaviour, "2.0.1", self.sim.car.phases)

    # ---- central -> charger ------------------------------------------------------------------
    @on("RequestStartTransaction")
    def on_request_start(self, id_token: dict[str, Any], remote_start_id: int, **_: Any) -> Any:
        sim, card = self.sim, str(id_token["id_token"])
        busy = sim.transaction is not None or not sim.reservations.admits(sim.connector_id, card)
        return call_result.RequestStartTransaction(status="Rejected" if busy else "Accepted")

    @after("RequestStartTransaction")
    def after_request_start(self, id_token: dict[str, Any], remote_start_id: int, **_: Any) -> None:
        self.sim.spawn(self.sim.begin_transaction(id_token["id_token"], remote_start_id))

    @on("RequestStopTransaction")
    def on_request_stop(self, transaction_id: str) -> Any:
        tx = self.sim.transaction
        ok = tx is not None and tx.id == transaction_id
        return call_result.RequestStopTransaction(status="Accepted" if ok else "Rejected")

    @after("RequestStopTransaction")
    def after_request_stop(self, transaction_id: str) -> None:
        tx = self.sim.transaction
        if tx is not None and tx.id == transaction_id:
            self.sim.spawn(self.sim.end_transaction("Remote"))

    @on("SetChargingProfile")
    def on_set_charging_profile(self, evse_id: int, charging_profile: dict[str, Any]) -> Any:
        profile = charging_profile
        purpose = profile["charging_profile_purpose"]
        status = self.apply_profile(
            SimProfile(
                profile_id=int(profile["id"]),
                connector_id=evse_id,
                purpose=CP_MAX if purpose == "ChargingStationMaxProfile" else purpose,
                stack_level=int(profile["stack_level"]),
                transaction_id=profile.get("transaction_id"),
                valid_to=parse(profile["valid_to"]) if profile.get("valid_to") else None,
                **schedule_fields(profile["charging_schedule"][0]),
            )
        )
        return call_result.SetChargingProfile(status=status)

    @on("ClearChargingProfile")
    def on_clear_charging_profile(self, **extra: Any) -> Any:
        criteria = extra.get("charging_profile_criteria") or {}
        purpose = criteria.get("charging_profile_purpose")
        status = self.clear_profiles(
            profile_id=extra.get("charging_profile_id"),
            connector_id=criteria.get("evse_id"),
            purpose=CP_MAX if purpose == "ChargingStationMaxProfile" else purpose,
            stack_level=criteria.get("stack_level"),
        )
        return call_result.ClearChargingProfile(status=status)

    def _check_size(self, action: str, items: int) -> None:
        """What a real station does with a message above its DeviceDataCtrlr limits."""
        config = self.sim.configuration
        if items > int(config.get(f"DeviceDataCtrlr.ItemsPerMessage[{action}]") or items):
            raise OccurrenceConstraintViolationError(description=f"{items} items in {action}")
        size = int(config.get(f"DeviceDataCtrlr.BytesPerMessage[{action}]") or 0)
        if size and self.last_frame_bytes > size:
            raise FormatViolationError(description=f"{self.last_frame_bytes} bytes > {size}")

    @on("GetVariables")
    def on_get_variables(self, get_variable_data: list[dict[str, Any]]) -> Any:
        self._check_size("GetVariables", len(get_variable_data))
        results = []
        for item in get_variable_data:
            key = _key(item)
            value = self.sim.configuration.get(key)
            result = {
                "attribute_status": "Accepted" if value is not None else "UnknownVariable",
                "component": item["component"],
                "variable": item["variable"],
            }
            if value is not None:
                result["attribute_value"] = value
            results.append(result)
        return call_result.GetVariables(get_variable_result=results)

    @on("SetVariables")
    def on_set_variables(self, set_variable_data: list[dict[str, Any]]) -> Any:
        self._check_size("SetVariables", len(set_variable_data))
        results = []
        for item in set_variable_data:
            key = _key(item)
            status = self._set(key, str(item["attribute_value"]))
            results.append(
                {
                    "attribute_status": status,
                    "component": item["component"],
                    "variable": item["variable"],
                }
            )
        return call_result.SetVariables(set_variable_result=results)

    def _set(self, key: str, value: str) -> str:
        config = self.sim.configuration
        if key not in config:
            return "UnknownVariable"
        if key in READ_ONLY or self.sim.behaviour.rejects_configuration_changes:
            return "Rejected"
        if key.endswith("Measurands") and not set(value.split(",")) <= SUPPORTED:
            return "Rejected"
        config[key] = value
        return "Accepted"

    @on("Reset")
    def on_reset(self, type: str, **_: Any) -> Any:
        return call_result.Reset(status="Accepted")

    @on("ChangeAvailability")
    def on_change_availability(self, operational_status: str, **_: Any) -> Any:
        self.sim.available = operational_status == "Operative"
        scheduled = not self.sim.available and self.sim.transaction is not None
        self.sim.advance()
        return call_result.ChangeAvailability(status="Scheduled" if scheduled else "Accepted")

    @on("SendLocalList")
    def on_send_local_list(self, version_number: int, update_type: str, **extra: Any) -> Any:
        entries = {
            e["id_token"]["id_token"]: (e.get("id_token_info") or {}).get("status", "Accepted")
            for e in extra.get("local_authorization_list") or []
        }
        return call_result.SendLocalList(
            status=self.store_local_list(version_number, update_type, entries)
        )

    @on("GetLocalListVersion")
    def on_get_local_list_version(self) -> Any:
        return call_result.GetLocalListVersion(version_number=self.sim.local_list_version)

    @on("ClearCache")
    def on_clear_cache(self) -> Any:
        return call_result.ClearCache(status="Accepted")

    @on("ReserveNow")
    def on_reserve_now(
        self, id: int, expiry_date_time: str, id_token: dict[str, Any], **extra: Any
    ) -> Any:
        if self.sim.configuration.get("ReservationCtrlr.Enabled", "true").lower() == "false":
            return call_result.ReserveNow(status="Rejected")
        group = (extra.get("group_id_token") or {}).get("id_token")
        reservation = SimReservation(
            id,
            int(extra.get("evse_id") or 0),
            str(id_token["id_token"]),
            parse(expiry_date_time),
            group,
        )
        return call_result.ReserveNow(status=self.sim.reservations.reserve(reservation))

    @on("CancelReservation")
    def on_cancel_reservation(self, reservation_id: int) -> Any:
        ok = self.sim.reservations.cancel(reservation_id)
        return call_result.CancelReservation(status="Accepted" if ok else "Rejected")

    @on("CostUpdated")
    def on_cost_updated(self, total_cost: float, transaction_id: str) -> Any:
        return call_result.CostUpdated()

    @on("UpdateFirmware")
    def on_update_firmware(self, request_id: int, firmware: dict[str, Any], **_: Any) -> Any:
        return call_result.UpdateFirmware(status="Accepted")

    @after("UpdateFirmware")
    def after_update_firmware(self, request_id: int, firmware: dict[str, Any], **_: Any) -> None:
        async def report(status: str) -> None:
            await self.request(
                call.FirmwareStatusNotification(status=status, request_id=request_id)
            )

        signed = "signature" in firmware
        self.sim.spawn(install(self.sim, firmware["location"], report, signed=signed))

    @on("TriggerMessage")
    def on_trigger_message(self, requested_message: str, **_: Any) -> Any:
        return call_result.TriggerMessage(status="Accepted")

    @after("TriggerMessage")
    def after_trigger_message(self, requested_message: str, **_: Any) -> None:
        if requested_message == "StatusNotification":
            self.sim.spawn(self.status(self.sim.connector_id, self.sim.status))
        elif requested_message == "Heartbeat":
            self.sim.spawn(self.heartbeat())
        elif requested_message == "BootNotification":  # e.g. a central approving it (Pending)
            self.sim.spawn(self.boot())


def _key(item: dict[str, Any]) -> str:
    """ "Component.Variable", "[instance]" added when the variable has one."""
    variable = item["variable"]
    key = f"{item['component']['name']}.{variable['name']}"
    return f"{key}[{variable['instance']}]" if variable.get("instance") else key


def _connector_status(status: str) -> str:
    """1.6-style detail collapses to the 2.0.1 connector states."""
    if status in ("Available", "Unavailable", "Faulted", "Reserved"):
        return status
    return "Occupied"
