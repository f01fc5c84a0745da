"""OCPP 1.6J client side of the simulated charger (the `ocpp` library's ChargePoint)."""

from __future__ import annotations

from typing import Any

from ocpp.exceptions import OccurrenceConstraintViolationError
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result

from .adapter import ProtocolAdapter
from .firmware import install
from .profiles import SimProfile, schedule_fields
from .reservations import SimReservation
from .sampling import SUPPORTED, measurands_from, sampled_values
from .timefmt import iso, parse
from .transaction import SimSample, SimTransaction

READ_ONLY = {
    "NumberOfConnectors",
    "SupportedFeatureProfiles",
    "ChargeProfileMaxStackLevel",
    "GetConfigurationMaxKeys",
}


def default_configuration(interval: int = 60) -> dict[str, str]:
    return {
        "HeartbeatInterval": "300",
        "MeterValueSampleInterval": str(interval),
        "MeterValuesSampledData": "Energy.Active.Import.Register",
        "MeterValuesSampledDataMaxLength": "8",
        "NumberOfConnectors": "1",
        "SupportedFeatureProfiles": "Core,FirmwareManagement,LocalAuthListManagement,"
        "Reservation,SmartCharging,RemoteTrigger",
        "ChargeProfileMaxStackLevel": "8",
        "ChargingScheduleAllowedChargingRateUnit": "Current,Power",
        "ChargingScheduleMaxPeriods": "24",
        "LocalAuthListEnabled": "true",
        "SendLocalListMaxLength": "50",
        "GetConfigurationMaxKeys": "20",
    }


class V16Adapter(ProtocolAdapter, ChargePoint):  # type: ignore[misc]
    subprotocol = "ocpp1.6"

    def defaults(self) -> dict[str, str]:
        return {**default_configuration(), "NumberOfConnectors": str(self.sim.connectors)}

    # ---- charger -> central -----------------------------------------------------------------
    async def boot(self) -> int:
        sim = self.sim
        result = await self.request(
            call.BootNotification(
                charge_point_vendor=sim.vendor,
                charge_point_model=sim.model,
                firmware_version=sim.firmware,
                charge_point_serial_number=sim.serial,
            )
        )
        return int(result.interval)

    async def heartbeat(self) -> None:
        await self.request(call.Heartbeat())

    async def status(self, connector_id: int, status: str) -> None:
        await self.request(
            call.StatusNotification(
                connector_id=connector_id,
                error_code="NoError",
                status=status,
                timestamp=iso(self.sim.clock()),
            )
        )

    async def authorize(self, id_tag: str) -> str:
        result = await self.request(call.Authorize(id_tag=id_tag))
        return str(result.id_tag_info["status"])

    def start_message(self, tx: SimTransaction) -> Any:
        return call.StartTransaction(
            connector_id=tx.connector_id,
            id_tag=tx.id_tag or "",
            meter_start=int(tx.meter_start_wh),
            timestamp=iso(tx.started_at),
            reservation_id=tx.reservation_id,
        )

    def start_result(self, tx: SimTransaction, result: Any) -> None:
        tx.id = str(result.transaction_id)
        tx.card_status = str(result.id_tag_info["status"])

    def update_message(self, tx: SimTransaction, sample: SimSample, tx_id: str) -> Any:
        return self.meter_message(tx.connector_id, sample, tx_id)

    def meter_message(self, connector_id: int, sample: SimSample, tx_id: str | None) -> Any:
        return call.MeterValues(
            connector_id=connector_id,
            transaction_id=int(tx_id) if tx_id is not None else None,
            meter_value=[
                {"timestamp": iso(sample.timestamp), "sampledValue": self._values(sample)}
            ],
        )

    def stop_message(self, tx: SimTransaction, sample: SimSample, reason: str) -> Any:
        tx_id = (
            tx.local_id if self.sim.behaviour.keeps_local_transaction_id else (tx.id or tx.local_id)
        )
        end = {
            "timestamp": iso(sample.timestamp),
            "sampledValue": [
                {
                    "value": f"{sample.register_wh:.1f}",
                    "context": "Transaction.End",
                    "measurand": "Energy.Active.Import.Register",
                    "unit": "Wh",
                }
            ],
        }
        return call.StopTransaction(
            meter_stop=int(sample.register_wh),
            timestamp=iso(sample.timestamp),
            transaction_id=int(tx_id),
            reason=reason,
            id_tag=tx.id_tag,
            transaction_data=[end],
        )

    def _values(self, sample: SimSample) -> list[dict[str, Any]]:
        measurands = measurands_from(self.sim.configuration.get("MeterValuesSampledData"))
        return sampled_values(sample, measurands, self.sim.behaviour, "1.6", self.sim.car.phases)

    # ---- central -> charger ------------------------------------------------------------------
    @on("RemoteStartTransaction")
    def on_remote_start(self, id_tag: str, **_: Any) -> Any:
        sim = self.sim
        busy = sim.transaction is not None or not sim.reservations.admits(sim.connector_id, id_tag)
        return call_result.RemoteStartTransaction(status="Rejected" if busy else "Accepted")

    @after("RemoteStartTransaction")
    def after_remote_start(self, id_tag: str, **_: Any) -> None:
        self.sim.spawn(self.sim.begin_transaction(id_tag))

    def _is_current(self, transaction_id: int) -> bool:
        tx = self.sim.transaction
        if tx is None:
            return False
        # A real charger handles the StartTransaction answer before the next CALL; here that
        # answer may still be on its way to the queue, so the id it carries is the only one the
        # central system can know (the queue sends the stop with the real id afterwards).
        return tx.id is None or str(transaction_id) in (tx.id, tx.local_id)

    @on("RemoteStopTransaction")
    def on_remote_stop(self, transaction_id: int) -> Any:
        ok = self._is_current(transaction_id)
        return call_result.RemoteStopTransaction(status="Accepted" if ok else "Rejected")

    @after("RemoteStopTransaction")
    def after_remote_stop(self, transaction_id: int) -> None:
        if self._is_current(transaction_id):
            self.sim.spawn(self.sim.end_transaction("Remote"))

    @on("SetChargingProfile")
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any]
    ) -> Any:
        profile = cs_charging_profiles
        status = self.apply_profile(
            SimProfile(
                profile_id=int(profile["charging_profile_id"]),
                connector_id=connector_id,
                purpose=profile["charging_profile_purpose"],
                stack_level=int(profile["stack_level"]),
                transaction_id=str(profile["transaction_id"])
                if "transaction_id" in profile
                else None,
                valid_to=parse(profile["valid_to"]) if profile.get("valid_to") else None,
                **schedule_fields(profile["charging_schedule"]),
            )
        )
        return call_result.SetChargingProfile(status=status)

    @on("ClearChargingProfile")
    def on_clear_charging_profile(self, **criteria: Any) -> Any:
        status = self.clear_profiles(
            profile_id=criteria.get("id"),
            connector_id=criteria.get("connector_id"),
            purpose=criteria.get("charging_profile_purpose"),
            stack_level=criteria.get("stack_level"),
        )
        return call_result.ClearChargingProfile(status=status)

    @on("GetCompositeSchedule")
    def on_get_composite_schedule(self, connector_id: int, duration: int, **_: Any) -> Any:
        start = self.sim.clock()
        return call_result.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start=iso(start),
            charging_schedule={
                "duration": duration,
                "charging_rate_unit": "A",
                "charging_schedule_period": self.sim.composite(start, duration),
            },
        )

    @on("ChangeAvailability")
    def on_change_availability(self, connector_id: int, type: str) -> Any:
        self.sim.available = type == "Operative"
        scheduled = not self.sim.available and self.sim.transaction is not None
        self.sim.advance()
        return call_result.ChangeAvailability(status="Scheduled" if scheduled else "Accepted")

    @on("GetConfiguration")
    def on_get_configuration(self, key: list[str] | None = None) -> Any:
        config = self.sim.configuration
        most = int(config.get("GetConfigurationMaxKeys") or 0)
        if key and most and len(key) > most:  # what a real charger may do with too many
            raise OccurrenceConstraintViolationError(description=f"{len(key)} keys > {most}")
        wanted = key or list(config)
        return call_result.GetConfiguration(
            configuration_key=[
                {"key": k, "readonly": k in READ_ONLY, "value": config[k]}
                for k in wanted
                if k in config
            ],
            unknown_key=[k for k in wanted if k not in config] or None,
        )

    @on("ChangeConfiguration")
    def on_change_configuration(self, key: str, value: str) -> Any:
        config = self.sim.configuration
        if key not in config:
            return call_result.ChangeConfiguration(status="NotSupported")
        if key in READ_ONLY or self.sim.behaviour.rejects_configuration_changes:
            return call_result.ChangeConfiguration(status="Rejected")
        if key == "MeterValuesSampledData" and not set(value.split(",")) <= SUPPORTED:
            return call_result.ChangeConfiguration(status="Rejected")
        config[key] = value
        return call_result.ChangeConfiguration(status="Accepted")

    @on("Reset")
    def on_reset(self, type: str) -> Any:
        return call_result.Reset(status="Accepted")

    @on("UnlockConnector")
    def on_unlock_connector(self, connector_id: int) -> Any:
        return call_result.UnlockConnector(status="Unlocked")

    @on("TriggerMessage")
    def on_trigger_message(self, requested_message: str, **_: Any) -> Any:
        known = requested_message in (
            "StatusNotification",
            "Heartbeat",
            "MeterValues",
            "BootNotification",
        )
        return call_result.TriggerMessage(status="Accepted" if known else "NotImplemented")

    @after("TriggerMessage")
    def after_trigger_message(self, requested_message: str, **_: Any) -> None:
        sim = self.sim
        work = {
            "StatusNotification": lambda: self.status(sim.connector_id, sim.status),
            "Heartbeat": self.heartbeat,
            "MeterValues": sim.sample_now,
            "BootNotification": self.boot,
        }.get(requested_message)
        if work is not None:
            sim.spawn(work())

    @on("SendLocalList")
    def on_send_local_list(self, list_version: int, update_type: str, **extra: Any) -> Any:
        entries = {
            e["id_tag"]: (e.get("id_tag_info") or {}).get("status", "Accepted")
            for e in extra.get("local_authorization_list") or []
        }
        return call_result.SendLocalList(
            status=self.store_local_list(list_version, update_type, entries)
        )

    @on("GetLocalListVersion")
    def on_get_local_list_version(self) -> Any:
        return call_result.GetLocalListVersion(list_version=self.sim.local_list_version)

    @on("ClearCache")
    def on_clear_cache(self) -> Any:
        return call_result.ClearCache(status="Accepted")

    @on("ReserveNow")
    def on_reserve_now(
        self, connector_id: int, expiry_date: str, id_tag: str, reservation_id: int, **extra: Any
    ) -> Any:
        reservation = SimReservation(
            reservation_id, connector_id, id_tag, parse(expiry_date), extra.get("parent_id_tag")
        )
        return call_result.ReserveNow(status=self.sim.reservations.reserve(reservation))

    @on("CancelReservation")
    def on_cancel_reservation(self, reservation_id: int) -> Any:
        ok = self.sim.reservations.cancel(reservation_id)
        return call_result.CancelReservation(status="Accepted" if ok else "Rejected")

    @on("UpdateFirmware")
    def on_update_firmware(self, location: str, retrieve_date: str, **_: Any) -> Any:
        return call_result.UpdateFirmware()

    @after("UpdateFirmware")
    def after_update_firmware(self, location: str, **_: Any) -> None:
        async def report(status: str) -> None:
            await self.request(call.FirmwareStatusNotification(status=status))

        self.sim.spawn(install(self.sim, location, report, signed=False))

    @on("SignedUpdateFirmware")
    def on_signed_update_firmware(self, request_id: int, firmware: dict[str, Any], **_: Any) -> Any:
        return call_result.SignedUpdateFirmware(status="Accepted")

    @after("SignedUpdateFirmware")
    def after_signed_update_firmware(
        self, request_id: int, firmware: dict[str, Any], **_: Any
    ) -> None:
        async def report(status: str) -> None:
            await self.request(
                call.SignedFirmwareStatusNotification(status=status, request_id=request_id)
            )

        self.sim.spawn(install(self.sim, firmware["location"], report, signed=True))

    @on("DataTransfer")
    def on_data_transfer(self, vendor_id: str, **_: Any) -> Any:
        return call_result.DataTransfer(status="UnknownVendorId")
