"""OCPP 2.0.1: charger -> central handlers and central -> charger commands.

Version-neutral mapping: an EVSE is what the rest of the product calls a connector; the
charger's own transaction id is kept as the transaction id.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar

from ..domain import Card
from . import batching
from .auth import AuthResult, card_info, group_info
from .configure import configure_v201
from .errors import CallErrorReceived
from .meter import parse_meter_values
from .model import MeterSample, Reservation, Transaction
from .notifications import V201Notifications
from .profiles import CHARGE_POINT_MAX_PROFILE, ProfileSpec
from .reports import save_ev_needs, variable_key
from .rpc import on
from .timeutil import parse_timestamp, to_wire

_LOGGER = logging.getLogger(__name__)
_REMOTE_START_IDS = itertools.count(1)
# (component, variable) or (component, variable, variable instance)
Variable = tuple[str, str] | tuple[str, str, str]
# What one GetVariables / SetVariables message may hold (DeviceDataCtrlr, per action).
MESSAGE_LIMITS: tuple[Variable, ...] = (
    ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"),
    ("DeviceDataCtrlr", "ItemsPerMessage", "SetVariables"),
    ("DeviceDataCtrlr", "BytesPerMessage", "GetVariables"),
    ("DeviceDataCtrlr", "BytesPerMessage", "SetVariables"),
)
# Before a driver presents a token (cable first), a 2.0.1 transaction has no card status yet.
NO_TOKEN = "NoToken"  # noqa: S105 - a status, not a secret


def id_token_info(result: AuthResult) -> dict[str, Any]:
    info: dict[str, Any] = {"status": result.status}
    if result.expires_at is not None:
        info["cacheExpiryDateTime"] = to_wire(result.expires_at)
    if result.group_id is not None:
        info.update(group_info(result.group_id, v16=False))
    return info


class V201Session(V201Notifications):
    ocpp_version: ClassVar[str] = "2.0.1"
    limits_read = False  # the message limits below, once per connection

    # ---- charger -> central ----------------------------------------------------------------
    @on("BootNotification")
    async def on_boot_notification(
        self, charging_station: dict[str, Any], reason: str, **_: Any
    ) -> dict[str, Any]:
        return await self.accept_boot(
            charging_station.get("vendor_name", ""),
            charging_station.get("model", ""),
            charging_station.get("firmware_version"),
            charging_station.get("serial_number"),
        )

    async def configure(self) -> None:
        await configure_v201(self)

    @on("StatusNotification")
    async def on_status_notification(
        self, timestamp: str, connector_status: str, evse_id: int, **_: Any
    ) -> dict[str, Any]:
        await self.hub.status(
            self.id, evse_id, connector_status, None, None, None, None, parse_timestamp(timestamp)
        )
        return {}

    @on("Authorize")
    async def on_authorize(self, id_token: dict[str, Any], **_: Any) -> dict[str, Any]:
        result = await self.hub.authorizer.authorize(str(id_token["id_token"]))
        return {"idTokenInfo": id_token_info(result)}

    @on("TransactionEvent")
    async def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        transaction_info: dict[str, Any],
        **extra: Any,
    ) -> dict[str, Any]:
        at = parse_timestamp(timestamp)
        samples = parse_meter_values(extra.get("meter_value") or [])
        token = (extra.get("id_token") or {}).get("id_token")
        auth = await self.hub.authorizer.authorize(str(token)) if token else None
        tx_id = str(transaction_info["transaction_id"])
        evse = extra.get("evse") or {}
        tx = await self.hub.ledger.find(self.id, tx_id)
        if tx is None:
            tx = await self._start(tx_id, int(evse.get("id") or 1), at, token, auth, samples)
            samples = []  # stored with the start
            await self.hub.reservations.used(
                self.id, tx.connector_id, tx.id_tag, extra.get("reservation_id"), tx.id
            )
        elif extra.get("reservation_id") is not None:  # the card came after the cable
            await self.hub.reservations.used(
                self.id, tx.connector_id, tx.id_tag, extra["reservation_id"], tx.id
            )
        elif tx.is_open and auth is not None and tx.id_tag is None:
            tx = await self.hub.update_transaction(
                replace(tx, id_tag=str(token), card_status=auth.status)
            )
        if tx.is_open and event_type == "Ended":
            reason = transaction_info.get("stopped_reason") or "Local"
            await self.hub.stop_transaction(tx, None, at, reason, samples)
            save_ev_needs(self.hub, self.id, tx.connector_id, None)  # they were this car's
        elif tx.superseded and event_type == "Ended":  # its own end replaces our estimate
            await self.hub.stop_transaction(
                tx, None, at, transaction_info.get("stopped_reason") or "Local", samples
            )
        elif samples:
            await self.hub.meter(self.id, tx.connector_id, tx, samples)
        answer = {"idTokenInfo": id_token_info(auth)} if auth is not None else {}
        if event_type == "Ended":
            await self._total_cost(tx_id, answer)
        return answer

    async def _total_cost(self, tx_id: str, answer: dict[str, Any]) -> None:
        """The session's cost on the charger's display, when the site has prices (cost.py)."""
        ended = await self.hub.ledger.find(self.id, tx_id)
        if ended is not None and not ended.is_open:
            cost = await self.hub.cost.cost(self.hub, ended)
            if cost is not None:
                answer["totalCost"] = float(cost)  # JSON has no decimals; cents stay exact

    async def _start(
        self,
        tx_id: str,
        evse_id: int,
        at: datetime,
        token: str | None,
        auth: AuthResult | None,
        samples: Sequence[MeterSample],
    ) -> Transaction:
        """A transaction first heard of (Started, or a later event when Started was lost)."""
        earliest = min([at, *(s.timestamp for s in samples)])
        template = Transaction(
            id=tx_id,
            charge_point_id=self.id,
            connector_id=evse_id,
            id_tag=token,
            card_status=auth.status if auth is not None else NO_TOKEN,
            started_at=earliest,
        )
        tx, _ = await self.hub.start_transaction(template, None, samples)
        return tx

    @on("MeterValues")
    async def on_meter_values(
        self, evse_id: int, meter_value: list[dict[str, Any]], **_: Any
    ) -> dict[str, Any]:
        samples = parse_meter_values(meter_value)
        tx = await self.hub.resolve_transaction(self.id, None, evse_id)
        await self.hub.meter(self.id, evse_id, tx, samples)
        return {}

    @on("ReservationStatusUpdate")
    async def on_reservation_status_update(
        self, reservation_id: int, reservation_update_status: str, **_: Any
    ) -> dict[str, Any]:
        await self.hub.reservations.charger_ended(
            self.id, reservation_id, reservation_update_status
        )
        return {}

    @on("NotifyEvent")
    def on_notify_event(
        self, generated_at: str, seq_no: int, event_data: list[Any], **_: Any
    ) -> dict[str, Any]:
        self.notify(
            "NotifyEvent", {"generatedAt": generated_at, "seqNo": seq_no, "eventData": event_data}
        )
        return {}

    # ---- central -> charger ----------------------------------------------------------------
    async def remote_start(self, connector_id: int, id_tag: str) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "idToken": {"idToken": id_tag, "type": "ISO14443"},
            "remoteStartId": next(_REMOTE_START_IDS),
        }
        if connector_id:
            payload["evseId"] = connector_id
        return await self.request("RequestStartTransaction", payload)

    async def remote_stop(self, tx: Transaction) -> dict[str, Any]:
        return await self.request("RequestStopTransaction", {"transactionId": tx.id})

    async def reserve_now(self, reservation: Reservation) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": reservation.id,
            "expiryDateTime": to_wire(reservation.expires_at),
            "idToken": {"idToken": reservation.id_tag, "type": "ISO14443"},
        }
        if reservation.connector_id:
            payload["evseId"] = reservation.connector_id
        if reservation.parent_id_tag is not None:
            payload["groupIdToken"] = {"idToken": reservation.parent_id_tag, "type": "Central"}
        return await self.request("ReserveNow", payload)

    def reservations_refused(self) -> str | None:
        # ReservationCtrlr.Enabled, where a charger reports it (read with the other variables).
        enabled = self.hub.state(self.id).configuration.get("ReservationCtrlr.Enabled")
        return "ReservationCtrlr.Enabled=false" if enabled and enabled.lower() == "false" else None

    async def change_availability(self, connector_id: int, operative: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {"operationalStatus": "Operative" if operative else "Inoperative"}
        if connector_id:
            payload["evse"] = {"id": connector_id}
        return await self.request("ChangeAvailability", payload)

    async def set_charging_profile(self, connector_id: int, spec: ProfileSpec) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "id": spec.profile_id,
            "stackLevel": spec.stack_level,
            "chargingProfilePurpose": _purpose(spec.purpose),
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": spec.profile_id,
                    "startSchedule": to_wire(spec.start_schedule),
                    "chargingRateUnit": spec.unit,
                    "chargingSchedulePeriod": spec.wire_periods(),
                }
            ],
        }
        if spec.transaction_id is not None:
            profile["transactionId"] = spec.transaction_id
        if spec.valid_to is not None:
            profile["validTo"] = to_wire(spec.valid_to)
        return await self.request(
            "SetChargingProfile", {"evseId": connector_id, "chargingProfile": profile}
        )

    async def clear_charging_profile(self, connector_id: int, purpose: str) -> dict[str, Any]:
        return await self.request(
            "ClearChargingProfile",
            {
                "chargingProfileCriteria": {
                    "evseId": connector_id,
                    "chargingProfilePurpose": _purpose(purpose),
                }
            },
        )

    async def get_variables(self, names: Sequence[Variable]) -> dict[str, str]:
        """Values by "Component.Variable[instance]"; as many requests as the charger's
        ItemsPerMessage / BytesPerMessage for GetVariables need."""
        if not self.limits_read:
            first = await self._first_get_variables(names)
            if first is not None:
                return first
        values: dict[str, str] = {}
        for batch in self._batches("GetVariables", "getVariableData", names, _variable_data):
            answer = await self.request("GetVariables", {"getVariableData": _variable_data(batch)})
            values |= _accepted(answer)
        return values

    async def set_variables(self, values: Sequence[tuple[str, str, str]]) -> list[str]:
        await self._read_message_limits()
        statuses = []
        for batch in self._batches("SetVariables", "setVariableData", values, _set_data):
            answer = await self.request("SetVariables", {"setVariableData": _set_data(batch)})
            statuses += [
                str(r.get("attributeStatus")) for r in answer.get("setVariableResult") or []
            ]
        return statuses

    async def _first_get_variables(self, names: Sequence[Variable]) -> dict[str, str] | None:
        """The connection's first GetVariables asks for the message limits too, in one message
        as most stations take it; one that refuses it (CALLERROR: too many items or bytes) has
        its limits read on their own, and None says: now split `names` by them."""
        self.limits_read = True
        try:
            answer = await self.request(
                "GetVariables", {"getVariableData": _variable_data([*MESSAGE_LIMITS, *names])}
            )
        except CallErrorReceived as err:
            _LOGGER.info("%s: GetVariables too big (%s); reading its limits", self.id, err.code)
            self.limits_read = False
            await self._read_message_limits()
            return None
        values = _accepted(answer)
        limits = {variable_key(*_names(v)) for v in MESSAGE_LIMITS}
        await self.hub.save_configuration(self.id, {k: v for k, v in values.items() if k in limits})
        wanted = {variable_key(*_names(v)) for v in names}
        return {k: v for k, v in values.items() if k in wanted}

    async def _read_message_limits(self) -> None:
        """Once per connection: the message limits, ItemsPerMessage for GetVariables alone
        first (a request can be no smaller), then the others within it."""
        if self.limits_read:
            return
        self.limits_read = True
        for names in (MESSAGE_LIMITS[:1], MESSAGE_LIMITS[1:]):
            values: dict[str, str] = {}
            for batch in self._batches("GetVariables", "getVariableData", names, _variable_data):
                answer = await self.request(
                    "GetVariables", {"getVariableData": _variable_data(batch)}
                )
                values |= _accepted(answer)
            await self.hub.save_configuration(self.id, values)

    def _batches[T](
        self,
        action: str,
        field: str,
        items: Sequence[T],
        data: Callable[[Sequence[T]], list[dict[str, Any]]],
    ) -> list[list[T]]:
        configuration = self.hub.state(self.id).configuration
        return batching.split(
            items,
            lambda batch: {field: data(batch)},
            action,
            batching.limit(configuration, f"DeviceDataCtrlr.ItemsPerMessage[{action}]"),
            batching.limit(configuration, f"DeviceDataCtrlr.BytesPerMessage[{action}]"),
        )

    async def local_list_version(self) -> int:
        answer = await self.request("GetLocalListVersion", {})
        return int(answer.get("versionNumber", -1))

    async def send_local_list(
        self, version: int, full: bool, cards: Sequence[Card], now: datetime
    ) -> dict[str, Any]:
        entries = [
            {
                "idToken": {"idToken": card.uid[:36], "type": "ISO14443"},
                "idTokenInfo": card_info(card, now, "cacheExpiryDateTime"),
            }
            for card in cards
        ]
        payload: dict[str, Any] = {
            "versionNumber": version,
            "updateType": "Full" if full else "Differential",
        }
        if entries:
            payload["localAuthorizationList"] = entries
        return await self.request("SendLocalList", payload)

    def local_list_batch_size(self) -> int:
        raw = self.hub.state(self.id).configuration.get("LocalAuthListCtrlr.ItemsPerMessage")
        return int(raw) if raw and raw.isdigit() and int(raw) > 0 else 100

    def local_list_supported(self) -> bool:
        enabled = self.hub.state(self.id).configuration.get("LocalAuthListCtrlr.Enabled")
        return enabled is None or enabled.lower() != "false"


def _variable(c: str, v: str, instance: str | None = None) -> dict[str, Any]:
    return {
        "component": {"name": c},
        "variable": {"name": v, **({"instance": instance} if instance else {})},
    }


def _names(variable: Variable) -> tuple[dict[str, str], dict[str, str]]:
    """(component, variable) as variable_key takes them."""
    data = _variable(*variable)
    return data["component"], data["variable"]


def _accepted(answer: dict[str, Any]) -> dict[str, str]:
    return {
        variable_key(result["component"], result["variable"]): str(result["attributeValue"])
        for result in answer.get("getVariableResult") or []
        if result.get("attributeStatus") == "Accepted" and "attributeValue" in result
    }


def _variable_data(names: Sequence[Variable]) -> list[dict[str, Any]]:
    return [_variable(*name) for name in names]


def _set_data(values: Sequence[tuple[str, str, str]]) -> list[dict[str, Any]]:
    return [{"attributeValue": value, **_variable(c, v)} for c, v, value in values]


def _purpose(purpose: str) -> str:
    return "ChargingStationMaxProfile" if purpose == CHARGE_POINT_MAX_PROFILE else purpose
