"""Typed events the central system emits to its listeners (HA coordinator, controller, bridge)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .model import (
    ChargePointState,
    CurrentLimit,
    EvChargingNeeds,
    ExternalLimit,
    FirmwareUpdate,
    MeterSample,
    Reservation,
    Transaction,
)

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CentralEvent:
    charge_point_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ChargerConnected(CentralEvent):
    ocpp_version: str


@dataclass(frozen=True, slots=True)
class ChargerDisconnected(CentralEvent):
    reason: str


@dataclass(frozen=True, slots=True)
class ChargerBooted(CentralEvent):
    state: ChargePointState


@dataclass(frozen=True, slots=True)
class StatusChanged(CentralEvent):
    connector_id: int
    status: str | None
    error_code: str | None
    info: str | None
    vendor_error_code: str | None


@dataclass(frozen=True, slots=True)
class TransactionStarted(CentralEvent):
    transaction: Transaction


@dataclass(frozen=True, slots=True)
class TransactionUpdated(CentralEvent):
    transaction: Transaction


@dataclass(frozen=True, slots=True)
class TransactionEnded(CentralEvent):
    transaction: Transaction


@dataclass(frozen=True, slots=True)
class MeterSampled(CentralEvent):
    connector_id: int
    sample: MeterSample
    transaction_id: str | None


@dataclass(frozen=True, slots=True)
class LimitChecked(CentralEvent):
    """A limit was compared with the first meter sample after it; see `limit.verified`."""

    connector_id: int
    limit: CurrentLimit
    measured_max_a: float | None


@dataclass(frozen=True, slots=True)
class ChargerNotified(CentralEvent):
    """A message kept as-is for the logbook: DataTransfer, NotifyEvent, firmware/diagnostics."""

    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReservationMade(CentralEvent):
    """The charger accepted a ReserveNow."""

    reservation: Reservation


@dataclass(frozen=True, slots=True)
class ReservationEnded(CentralEvent):
    """Used by a transaction, cancelled, expired or removed by the charger (`reason`)."""

    reservation: Reservation
    reason: str


@dataclass(frozen=True, slots=True)
class SecurityEventReported(CentralEvent):
    """SecurityEventNotification (1.6 security extension, 2.0.1): for the logbook and alerts."""

    kind: str  # the spec's security event type, e.g. "InvalidCentralSystemCertificate"
    occurred_at: datetime
    tech_info: str | None


@dataclass(frozen=True, slots=True)
class FirmwareStatusChanged(CentralEvent):
    """A firmware status from the charger (1.6 plain or signed, 2.0.1)."""

    status: str
    request_id: int | None
    update: FirmwareUpdate | None  # the update it belongs to, when the central started one


@dataclass(frozen=True, slots=True)
class EvChargingNeedsReported(CentralEvent):
    connector_id: int
    needs: EvChargingNeeds


@dataclass(frozen=True, slots=True)
class ExternalLimitChanged(CentralEvent):
    """NotifyChargingLimit (`limit` set) or ClearedChargingLimit (`limit` None)."""

    connector_id: int  # 0: the whole charger
    source: str
    limit: ExternalLimit | None


Listener = Callable[[CentralEvent], None]


class EventBus:
    """Synchronous fan-out; a failing listener is logged and never stops the others."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def add(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def emit(self, event: CentralEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                _LOGGER.exception("event listener failed on %s", type(event).__name__)
