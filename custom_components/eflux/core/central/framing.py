"""OCPP-J frames: parse what a charger sends, and answer what the `ocpp` library would drop.

The library logs and ignores frames it cannot unpack (non-JSON, not an array, `[]`, unknown
message types) and never checks message ids. A central system must answer every CALL, so
this module turns each of those into an `RpcError` carrying the id to answer with ("-1" when
the id cannot be read, as OCPP 2.0.1 prescribes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .errors import RpcCode, RpcError

CALL, CALLRESULT, CALLERROR = 2, 3, 4
MAX_MESSAGE_ID_LENGTH = 36
UNREADABLE_ID = "-1"


@dataclass(frozen=True, slots=True)
class CallFrame:
    unique_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ResultFrame:
    unique_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ErrorFrame:
    unique_id: str
    code: str
    description: str
    details: dict[str, Any]


Frame = CallFrame | ResultFrame | ErrorFrame


class FrameError(RpcError):
    """A frame that is not valid RPC; `unique_id` is what to answer with."""

    def __init__(self, code: RpcCode, description: str, unique_id: str = UNREADABLE_ID) -> None:
        super().__init__(code, description)
        self.unique_id = unique_id


def parse_frame(text: str) -> Frame:
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        raise FrameError(RpcCode.RPC_FRAMEWORK_ERROR, "message is not valid JSON") from None
    if not isinstance(message, list):
        raise FrameError(
            RpcCode.RPC_FRAMEWORK_ERROR, f"message must be a JSON array, got {_kind(message)}"
        )
    if not message:
        raise FrameError(RpcCode.RPC_FRAMEWORK_ERROR, "message is an empty array")
    type_id = message[0]
    unique_id = message[1] if len(message) > 1 else None
    answer_id = unique_id if isinstance(unique_id, str) and unique_id else UNREADABLE_ID
    if type(type_id) is not int or type_id not in (CALL, CALLRESULT, CALLERROR):
        raise FrameError(
            RpcCode.MESSAGE_TYPE_NOT_SUPPORTED,
            f"MessageTypeId {json.dumps(type_id)[:20]} is not supported (2, 3 or 4)",
            answer_id,
        )
    if not isinstance(unique_id, str) or not unique_id:
        raise FrameError(
            RpcCode.RPC_FRAMEWORK_ERROR, "MessageId must be a non-empty string", UNREADABLE_ID
        )
    if len(unique_id) > MAX_MESSAGE_ID_LENGTH:
        raise FrameError(
            RpcCode.RPC_FRAMEWORK_ERROR,
            f"MessageId is {len(unique_id)} characters, at most {MAX_MESSAGE_ID_LENGTH} allowed",
            unique_id[:MAX_MESSAGE_ID_LENGTH],
        )
    if type_id == CALL:
        return _call(message, unique_id)
    if type_id == CALLRESULT:
        if len(message) != 3 or not isinstance(message[2], dict):
            raise FrameError(
                RpcCode.RPC_FRAMEWORK_ERROR, "CALLRESULT must be [3, id, {}]", unique_id
            )
        return ResultFrame(unique_id, message[2])
    if len(message) not in (4, 5) or not isinstance(message[2], str):
        raise FrameError(RpcCode.RPC_FRAMEWORK_ERROR, "CALLERROR must be [4, id, code, text, {}]")
    details = message[4] if len(message) == 5 and isinstance(message[4], dict) else {}
    return ErrorFrame(unique_id, message[2], str(message[3]), details)


def _call(message: list[Any], unique_id: str) -> CallFrame:
    if len(message) != 4:
        raise FrameError(
            RpcCode.RPC_FRAMEWORK_ERROR,
            f"CALL must have 4 elements [2, id, action, payload], got {len(message)}",
            unique_id,
        )
    action, payload = message[2], message[3]
    if not isinstance(action, str) or not action:
        raise FrameError(RpcCode.RPC_FRAMEWORK_ERROR, "CALL action must be a string", unique_id)
    if not isinstance(payload, dict):
        raise FrameError(
            RpcCode.FORMAT_VIOLATION,
            f"CALL payload must be a JSON object, got {_kind(payload)}",
            unique_id,
        )
    return CallFrame(unique_id, action, payload)


def call_error_text(
    unique_id: str, code: RpcCode, description: str, version: str, details: dict[str, Any] | None
) -> str:
    return json.dumps(
        [CALLERROR, unique_id, code.wire(version), description[:255], details or {}],
        separators=(",", ":"),
    )


def call_result_text(unique_id: str, payload: dict[str, Any]) -> str:
    return json.dumps([CALLRESULT, unique_id, payload], separators=(",", ":"))


def call_text(unique_id: str, action: str, payload: dict[str, Any]) -> str:
    return json.dumps([CALL, unique_id, action, payload], separators=(",", ":"))


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return "a string" if isinstance(value, str) else "a scalar"
