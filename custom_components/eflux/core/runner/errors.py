"""Exceptions of the site and the central system as HTTP answers (docs/local-api.md)."""

from __future__ import annotations

from aiohttp import web

from ..central import (
    CallErrorReceived,
    CallRejected,
    CallTimeout,
    ChargePointOffline,
    InvalidRequest,
    NoActiveTransaction,
    UnknownChargePoint,
)
from ..planning import PlanInputError


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


# Most specific first: the first matching class decides.
_MAPPING: tuple[tuple[type[Exception], int, str], ...] = (
    (ChargePointOffline, 409, "charger_offline"),
    (NoActiveTransaction, 409, "no_transaction"),
    (CallRejected, 409, "rejected"),
    (CallErrorReceived, 502, "charger_error"),
    (CallTimeout, 504, "charger_timeout"),
    (UnknownChargePoint, 404, "not_found"),
    (InvalidRequest, 400, "bad_request"),
    (PlanInputError, 400, "bad_request"),
    (KeyError, 404, "not_found"),
    (ValueError, 400, "bad_request"),
)


def as_api_error(err: Exception) -> ApiError | None:
    for kind, status, code in _MAPPING:
        if isinstance(err, kind):
            message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
            return ApiError(status, code, str(message))
    return None


def error_response(err: ApiError) -> web.Response:
    return web.json_response({"error": err.code, "message": err.message}, status=err.status)
