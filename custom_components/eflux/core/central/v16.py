"""OCPP 1.6J: charger -> central handlers and central -> charger commands."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from ..domain import Card
from . import validation
from .admission import is_refused_transaction, refused_transaction_id
from .auth import AuthResult, card_info, group_info
from .configure import configure_v16
from .errors import RpcCode, RpcError
from .masterpass import starting, stop_for_master_pass
from .meter import parse_meter_values
from .model import Reservation, Transaction
from .notifications import V16Notifications
from .profiles import ProfileSpec
from .quirks import V16_UNITS
from .rpc import on
from .timeutil import parse_timestamp, to_wire

_LOGGER = logging.getLogger(__name__)


def id_tag_info(result: AuthResult) -> dict[str, Any]:
    info: dict[str, Any] = {"status": result.status}
    if result.expires_at is not None:
        info["expiryDate"] = to_wire(result.expires_at)
    if result.group_id is not None:
        info.update(group_info(result.group_id, v16=True))
    return info


def _connector(value: int, *, allow_zero: bool) -> int:
    if value < 0 or (value == 0 and not allow_zero):
        raise RpcError(
            RpcCode.PROPERTY_CONSTRAINT,
            f"connectorId {value} is invalid ({'>= 0' if allow_zero else '>= 1'} expected)",
        )
    return value


class V16Session(V16Notifications):
    ocpp_version: ClassVar[str] = "1.6"

    def prepare_payload(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        if (
            action in ("MeterValues", "StopTransaction")
            and self.hub.quirks(self.id).nonstandard_units
        ):
            return _drop_nonstandard_units(payload)
        return payload

    def while_held(self, action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """A 1.6 charger not approved (admission.py): a card is Invalid - the one answer every
        charger obeys (a CALLERROR may send it to its offline rules) - and a StartTransaction
        gets a refused transaction id that is never recorded (with StopTransactionOnInvalidId
        the charger ends it at once); its StopTransaction and MeterValues are acknowledged."""
        if action in ("Authorize", "StartTransaction"):
            validation.check(self.ocpp_version, 2, action, payload)
            refused = {"idTagInfo": {"status": "Invalid"}}
            if action == "Authorize":
                return refused
            tx_id = refused_transaction_id()
            _LOGGER.info(
                "%s: StartTransaction on connector %s refused (not approved): Invalid,"
                " transaction %d not recorded",
                self.id,
                payload.get("connectorId"),
                tx_id,
            )
            return {"transactionId": tx_id, **refused}
        if action in ("StopTransaction", "MeterValues") and is_refused_transaction(
            payload.get("transactionId")
        ):
            return None  # the handlers acknowledge it and record nothing
        return super().while_held(action, payload)

    # ---- charger -> central ----------------------------------------------------------------
    @on("BootNotification")
    async def on_boot_notification(
        self, charge_point_vendor: str, charge_point_model: str, **extra: Any
    ) -> dict[str, Any]:
        return await self.accept_boot(
            charge_point_vendor,
            charge_point_model,
            extra.get("firmware_version"),
            extra.get("charge_point_serial_number") or extra.get("charge_box_serial_number"),
        )

    async def configure(self) -> None:
        await configure_v16(self)

    @on("StatusNotification")
    async def on_status_notification(
        self, connector_id: int, error_code: str, status: str, **extra: Any
    ) -> dict[str, Any]:
        stamp = extra.get("timestamp")
        await self.hub.status(
            self.id,
            _connector(connector_id, allow_zero=True),
            status,
            error_code,
            extra.get("info"),
            extra.get("vendor_id"),
            extra.get("vendor_error_code"),
            parse_timestamp(stamp) if stamp is not None else self.hub.clock(),
        )
        return {}

    @on("Authorize")
    async def on_authorize(self, id_tag: str, **_: Any) -> dict[str, Any]:
        result = await self.hub.authorizer.authorize(id_tag)
        if result.master_pass:  # 1.6 knows no master pass: the central stops the sessions
            self.spawn(stop_for_master_pass(self, id_tag))
        return {"idTagInfo": id_tag_info(result)}

    @on("StartTransaction")
    async def on_start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **extra: Any
    ) -> dict[str, Any]:
        started_at = parse_timestamp(timestamp)
        if meter_start < 0:
            raise RpcError(RpcCode.PROPERTY_CONSTRAINT, f"meterStart {meter_start} is negative")
        auth = starting(await self.hub.authorizer.authorize(id_tag))
        template = Transaction(
            id="",
            charge_point_id=self.id,
            connector_id=_connector(connector_id, allow_zero=False),
            id_tag=id_tag,
            card_status=auth.status,
            started_at=started_at,
            meter_start_wh=float(meter_start),
            last_register_wh=float(meter_start),
            last_register_at=started_at,
        )
        start_key = f"{connector_id}|{id_tag}|{started_at.isoformat()}|{meter_start}"
        tx, created = await self.hub.start_transaction(template, start_key)
        if not created:  # the same start again (a retry): the same answer
            auth = AuthResult(tx.card_status, "stored", auth.expires_at)
        else:
            await self.hub.reservations.used(
                self.id, tx.connector_id, id_tag, extra.get("reservation_id"), tx.id
            )
        return {"transactionId": int(tx.id), "idTagInfo": id_tag_info(auth)}

    @on("StopTransaction")
    async def on_stop_transaction(
        self, meter_stop: int, timestamp: str, transaction_id: int, **extra: Any
    ) -> dict[str, Any]:
        if is_refused_transaction(transaction_id):  # started while not approved: not ours
            _LOGGER.info(
                "%s: stop of refused transaction %d, not recorded", self.id, transaction_id
            )
            return {"idTagInfo": {"status": "Invalid"}} if extra.get("id_tag") else {}
        stopped_at = parse_timestamp(timestamp)
        samples = parse_meter_values(extra.get("transaction_data") or [])
        reason = extra.get("reason") or "Local"
        tx = await self.hub.resolve_transaction(self.id, str(transaction_id), None)
        if tx is None:
            template = Transaction(
                id=str(transaction_id),
                charge_point_id=self.id,
                connector_id=0,
                id_tag=extra.get("id_tag"),
                card_status="Unknown",
                started_at=stopped_at,
                stop_reason=reason,
            )
            await self.hub.orphan_stop(template, float(meter_stop), samples)
        elif tx.is_open or tx.superseded:  # superseded: its own stop replaces our estimate
            await self.hub.stop_transaction(tx, float(meter_stop), stopped_at, reason, samples)
        answer: dict[str, Any] = {}
        stop_tag = extra.get("id_tag")
        if stop_tag is not None:
            if tx is not None and tx.id_tag == stop_tag:
                answer["idTagInfo"] = {"status": tx.card_status}
            else:
                answer["idTagInfo"] = id_tag_info(await self.hub.authorizer.authorize(stop_tag))
        return answer

    @on("MeterValues")
    async def on_meter_values(
        self, connector_id: int, meter_value: list[dict[str, Any]], **extra: Any
    ) -> dict[str, Any]:
        connector_id = _connector(connector_id, allow_zero=True)
        raw_id = extra.get("transaction_id")
        if is_refused_transaction(raw_id):
            return {}  # a session started while not approved: none of ours
        samples = parse_meter_values(meter_value)
        tx = await self.hub.resolve_transaction(
            self.id, str(raw_id) if raw_id is not None else None, connector_id
        )
        await self.hub.meter(self.id, connector_id, tx, samples)
        return {}

    @on("DiagnosticsStatusNotification")
    def on_diagnostics_status(self, status: str, **_: Any) -> dict[str, Any]:
        self.notify("DiagnosticsStatusNotification", {"status": status})
        return {}

    # ---- central -> charger ----------------------------------------------------------------
    async def remote_start(self, connector_id: int, id_tag: str) -> dict[str, Any]:
        payload: dict[str, Any] = {"idTag": id_tag}
        if connector_id:
            payload["connectorId"] = connector_id
        return await self.request("RemoteStartTransaction", payload)

    async def remote_stop(self, tx: Transaction) -> dict[str, Any]:
        return await self.request("RemoteStopTransaction", {"transactionId": int(tx.id)})

    async def change_availability(self, connector_id: int, operative: bool) -> dict[str, Any]:
        kind = "Operative" if operative else "Inoperative"
        return await self.request("ChangeAvailability", {"connectorId": connector_id, "type": kind})

    async def set_charging_profile(self, connector_id: int, spec: ProfileSpec) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "chargingProfileId": spec.profile_id,
            "stackLevel": spec.stack_level,
            "chargingProfilePurpose": spec.purpose,
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "startSchedule": to_wire(spec.start_schedule),
                "chargingRateUnit": spec.unit,
                "chargingSchedulePeriod": spec.wire_periods(),
            },
        }
        if spec.transaction_id is not None:
            profile["transactionId"] = int(spec.transaction_id)
        if spec.valid_to is not None:
            profile["validTo"] = to_wire(spec.valid_to)
        return await self.request(
            "SetChargingProfile", {"connectorId": connector_id, "csChargingProfiles": profile}
        )

    async def clear_charging_profile(self, connector_id: int, purpose: str) -> dict[str, Any]:
        return await self.request(
            "ClearChargingProfile", {"connectorId": connector_id, "chargingProfilePurpose": purpose}
        )

    async def reserve_now(self, reservation: Reservation) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "connectorId": reservation.connector_id,
            "expiryDate": to_wire(reservation.expires_at),
            "idTag": reservation.id_tag,
            "reservationId": reservation.id,
        }
        if reservation.parent_id_tag is not None:
            payload["parentIdTag"] = reservation.parent_id_tag
        return await self.request("ReserveNow", payload)

    def reservations_refused(self) -> str | None:
        profiles = self.hub.state(self.id).configuration.get("SupportedFeatureProfiles")
        if profiles is None:  # not read (yet): let the charger answer for itself
            return None
        names = {part.strip() for part in profiles.split(",")}
        return None if "Reservation" in names else profiles

    async def local_list_version(self) -> int:
        answer = await self.request("GetLocalListVersion", {})
        return int(answer.get("listVersion", -1))

    async def send_local_list(
        self, version: int, full: bool, cards: Sequence[Card], now: datetime
    ) -> dict[str, Any]:
        entries = [
            {"idTag": card.uid[:20], "idTagInfo": card_info(card, now, "expiryDate")}
            for card in cards
        ]
        return await self.request(
            "SendLocalList",
            {
                "listVersion": version,
                "updateType": "Full" if full else "Differential",
                "localAuthorizationList": entries,
            },
        )

    def local_list_batch_size(self) -> int:
        raw = self.hub.state(self.id).configuration.get("SendLocalListMaxLength")
        return int(raw) if raw and raw.isdigit() and int(raw) > 0 else 100

    def local_list_supported(self) -> bool:
        configuration = self.hub.state(self.id).configuration
        profiles = configuration.get("SupportedFeatureProfiles")
        if profiles is not None and "LocalAuthListManagement" not in profiles:
            return False
        return configuration.get("LocalAuthListEnabled", "true").lower() != "false"


def _drop_nonstandard_units(payload: dict[str, Any]) -> dict[str, Any]:
    """ChargeAmps: a unit outside the 1.6 list (Hz) is dropped; the value stays."""
    key = "meterValue" if "meterValue" in payload else "transactionData"
    cleaned = []
    for entry in payload.get(key) or []:
        values = [
            {k: v for k, v in sampled.items() if k != "unit" or v in V16_UNITS}
            for sampled in entry.get("sampledValue") or []
        ]
        cleaned.append({**entry, "sampledValue": values})
    return {**payload, key: cleaned} if key in payload else payload
