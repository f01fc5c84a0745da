"""Errors of the central system: the typed ones callers handle, and the OCPP wire codes.

Wire codes follow the specification of each version rather than the `ocpp` library, which
spells 1.6's `FormationViolation` as 2.0.1's `FormatViolation` and swaps NotImplemented
(action unknown) with NotSupported (action known, not supported).
"""

from __future__ import annotations

from enum import Enum
from typing import Any


class CentralError(Exception):
    """Base of every error the central system raises to its callers."""


class UnknownChargePoint(CentralError):
    def __init__(self, cp_id: str) -> None:
        super().__init__(f"unknown charge point {cp_id!r}")
        self.cp_id = cp_id


class ChargePointOffline(CentralError):
    def __init__(self, cp_id: str) -> None:
        super().__init__(f"charge point {cp_id!r} is not connected")
        self.cp_id = cp_id


class NotReady(ChargePointOffline):
    """Connected, but not yet booted and configured (or its boot is Pending approval)."""

    def __init__(self, cp_id: str) -> None:
        super().__init__(cp_id)
        self.args = (f"charge point {cp_id!r} is connected but not ready (booting or pending)",)


class CallTimeout(CentralError):
    def __init__(self, cp_id: str, action: str, timeout: float) -> None:
        super().__init__(f"{cp_id}: no answer to {action} within {timeout:g} s")
        self.cp_id = cp_id
        self.action = action
        self.timeout = timeout


class CallErrorReceived(CentralError):
    """The charger answered with a CALLERROR."""

    def __init__(self, cp_id: str, action: str, code: str, description: str) -> None:
        super().__init__(f"{cp_id}: {action} failed with {code}: {description}")
        self.cp_id = cp_id
        self.action = action
        self.code = code
        self.description = description


class CallRejected(CentralError):
    """The charger answered, but with a status other than what we asked for."""

    def __init__(self, cp_id: str, action: str, status: str, payload: dict[str, Any]) -> None:
        super().__init__(f"{cp_id}: {action} answered {status}")
        self.cp_id = cp_id
        self.action = action
        self.status = status
        self.payload = payload


class InvalidRequest(CentralError):
    """A central -> charger message that breaks the OCPP schema (never sent)."""


class NoActiveTransaction(CentralError):
    def __init__(self, cp_id: str, what: object) -> None:
        super().__init__(f"{cp_id}: no active transaction for {what!r}")
        self.cp_id = cp_id


class ReservationNotSupported(CentralError):
    """The charger says (SupportedFeatureProfiles) it has no Reservation profile: not sent."""

    def __init__(self, cp_id: str, profiles: str) -> None:
        super().__init__(
            f"{cp_id} does not support reservations (its feature profiles: {profiles or 'none'})"
        )
        self.cp_id = cp_id


class UnknownReservation(CentralError):
    def __init__(self, what: object) -> None:
        super().__init__(f"no open reservation {what}")
        self.what = what


class CardListGap(CentralError):
    """A card list delta that does not follow the stored version (a full resync is needed)."""

    def __init__(self, have: int, since: int) -> None:
        super().__init__(f"card list delta since version {since} does not apply to version {have}")
        self.have = have
        self.since = since


class RpcCode(Enum):
    """OCPP-J error codes, by meaning; `wire(version)` gives the spelling on the wire."""

    FORMAT_VIOLATION = "FormatViolation"
    GENERIC_ERROR = "GenericError"
    INTERNAL_ERROR = "InternalError"
    MESSAGE_TYPE_NOT_SUPPORTED = "MessageTypeNotSupported"
    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    OCCURRENCE_CONSTRAINT = "OccurrenceConstraintViolation"
    PROPERTY_CONSTRAINT = "PropertyConstraintViolation"
    PROTOCOL_ERROR = "ProtocolError"
    RPC_FRAMEWORK_ERROR = "RpcFrameworkError"
    SECURITY_ERROR = "SecurityError"
    TYPE_CONSTRAINT = "TypeConstraintViolation"

    def wire(self, version: str) -> str:
        if version != "1.6":
            return self.value
        return _V16_SPELLING.get(self, self.value)


# 1.6 keeps the historic spellings (errata 5.1, 5.2) and has no framework-level codes: a
# frame that is not valid RPC is "not conform the PDU structure", i.e. FormationViolation.
_V16_SPELLING = {
    RpcCode.FORMAT_VIOLATION: "FormationViolation",
    RpcCode.OCCURRENCE_CONSTRAINT: "OccurenceConstraintViolation",
    RpcCode.RPC_FRAMEWORK_ERROR: "FormationViolation",
    RpcCode.MESSAGE_TYPE_NOT_SUPPORTED: "FormationViolation",
}


class RpcError(Exception):
    """Raised while handling a charger's CALL; becomes the CALLERROR sent back."""

    def __init__(
        self, code: RpcCode, description: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{code.value}: {description}")
        self.code = code
        self.description = description
        self.details = details or {}
