"""JSON-schema checks with error codes as the OCPP specification names them.

The schemas and cached validators are the `ocpp` library's; the mapping of a schema failure
to an error code is ours (the library reports an enum violation as FormatViolation and a
missing field as ProtocolError; the specification calls them PropertyConstraintViolation and
OccurrenceConstraintViolation).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from jsonschema.exceptions import (  # type: ignore[import-untyped]  # no stubs installed
    ValidationError,
    best_match,
)
from ocpp.messages import get_validator

from .errors import RpcCode, RpcError

CALL, CALLRESULT = 2, 3
_CODE_BY_KEYWORD = {
    "type": RpcCode.TYPE_CONSTRAINT,
    "required": RpcCode.OCCURRENCE_CONSTRAINT,
    "minItems": RpcCode.OCCURRENCE_CONSTRAINT,
    "maxItems": RpcCode.OCCURRENCE_CONSTRAINT,
    "additionalProperties": RpcCode.FORMAT_VIOLATION,
    "enum": RpcCode.PROPERTY_CONSTRAINT,
    "maxLength": RpcCode.PROPERTY_CONSTRAINT,
    "minLength": RpcCode.PROPERTY_CONSTRAINT,
    "minimum": RpcCode.PROPERTY_CONSTRAINT,
    "maximum": RpcCode.PROPERTY_CONSTRAINT,
    "multipleOf": RpcCode.PROPERTY_CONSTRAINT,
    "pattern": RpcCode.PROPERTY_CONSTRAINT,
}
# 1.6 limits are `multipleOf 0.1`: checked on Decimals, as binary floats fail it (21.4). The
# library caches one validator per schema whatever the float parser, so these match its own.
_DECIMAL_SCHEMAS = {
    (CALL, "SetChargingProfile"),
    (CALL, "RemoteStartTransaction"),
    (CALLRESULT, "GetCompositeSchedule"),
}


def has_schema(version: str, action: str) -> bool:
    try:
        get_validator(CALL, action, version)
    except (OSError, ValueError):
        return False
    return True


def check(version: str, message_type: int, action: str, payload: dict[str, Any]) -> None:
    """Raise `RpcError` with the spec's code when `payload` breaks the action's schema."""
    decimal = version == "1.6" and (message_type, action) in _DECIMAL_SCHEMAS
    try:
        validator = get_validator(
            message_type, action, version, parse_float=Decimal if decimal else float
        )
    except (OSError, ValueError):
        raise RpcError(
            RpcCode.NOT_IMPLEMENTED, f"no schema for {action} in OCPP {version}"
        ) from None
    if decimal:
        payload = json.loads(json.dumps(payload), parse_float=Decimal)
    if validator.is_valid(payload):
        return
    error: ValidationError | None = best_match(validator.iter_errors(payload))
    if error is None:  # pragma: no cover - is_valid said otherwise
        return
    where = "/".join(str(part) for part in error.absolute_path) or "payload"
    code = _CODE_BY_KEYWORD.get(str(error.validator), RpcCode.FORMAT_VIOLATION)
    raise RpcError(code, f"{action}: {where}: {error.message}"[:255])
