"""Local OCPP central system (1.6J and 2.0.1) that loses no transaction.

Built on the `ocpp` library's ChargePoint classes and `@on` handlers, with websockets as the
server and SQLite (aiosqlite, WAL, synchronous=FULL) as the store. Imports no Home Assistant.
"""

from .auth import AuthResult
from .central import CentralSystem
from .config import DEFAULT_MEASURANDS, AuthorizationSettings, CentralConfig
from .credentials import generate_password
from .errors import (
    CallErrorReceived,
    CallRejected,
    CallTimeout,
    CardListGap,
    CentralError,
    ChargePointOffline,
    InvalidRequest,
    NoActiveTransaction,
    NotReady,
    ReservationNotSupported,
    UnknownChargePoint,
    UnknownReservation,
)
from .events import (
    CentralEvent,
    ChargerBooted,
    ChargerConnected,
    ChargerDisconnected,
    ChargerNotified,
    LimitChecked,
    MeterSampled,
    ReservationEnded,
    ReservationMade,
    StatusChanged,
    TransactionEnded,
    TransactionStarted,
    TransactionUpdated,
)
from .model import (
    ChargePointState,
    ConnectorState,
    CurrentLimit,
    MeterSample,
    PhaseValues,
    Reservation,
    Transaction,
)
from .quirks import QUIRK_TABLE, Quirks, quirks_for

__all__ = [
    "DEFAULT_MEASURANDS",
    "QUIRK_TABLE",
    "AuthResult",
    "AuthorizationSettings",
    "CallErrorReceived",
    "CallRejected",
    "CallTimeout",
    "CardListGap",
    "CentralConfig",
    "CentralError",
    "CentralEvent",
    "CentralSystem",
    "ChargePointOffline",
    "ChargePointState",
    "ChargerBooted",
    "ChargerConnected",
    "ChargerDisconnected",
    "ChargerNotified",
    "ConnectorState",
    "CurrentLimit",
    "InvalidRequest",
    "LimitChecked",
    "MeterSample",
    "MeterSampled",
    "NoActiveTransaction",
    "NotReady",
    "PhaseValues",
    "Quirks",
    "Reservation",
    "ReservationEnded",
    "ReservationMade",
    "ReservationNotSupported",
    "StatusChanged",
    "Transaction",
    "TransactionEnded",
    "TransactionStarted",
    "TransactionUpdated",
    "UnknownChargePoint",
    "UnknownReservation",
    "generate_password",
    "quirks_for",
]
