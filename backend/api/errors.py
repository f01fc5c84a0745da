"""Every failure leaves as JSON `{"error": code, "detail": text}`, never a stack trace."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

import voluptuous as vol
from aiohttp import web

from ..billing.errors import BillingError
from ..parse import ParseError
from ..payments.provider import ProviderError, ProviderUnavailable
from ..storage import ReferenceViolation, Unavailable
from ..store import Conflict, Invalid, NotFound, StoreError

_LOGGER = logging.getLogger(__name__)
RETRY_AFTER_S = 5  # an unavailable database: ask clients to come back soon
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail


def error_response(
    status: int, error: str, detail: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response({"error": error, "detail": detail}, status=status, headers=headers)


def unavailable_response(err: Unavailable) -> web.Response:
    _LOGGER.warning("database unavailable: %s", err)
    return error_response(
        503,
        "unavailable",
        "the database is unavailable; retry later",
        {"Retry-After": str(RETRY_AFTER_S)},
    )


def invalid_detail(err: vol.Invalid) -> str:
    """`sessions[3].started_at: expected an ISO-8601 time with a timezone` style text."""
    errors = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
    parts = []
    for one in errors[:5]:
        path = ""
        for key in one.path:
            path += f"[{key}]" if isinstance(key, int) else (f".{key}" if path else str(key))
        parts.append(f"{path}: {one.msg}" if path else one.msg)
    return "; ".join(parts)


_STORE_ERRORS: dict[type[StoreError], tuple[int, str]] = {
    NotFound: (404, "not_found"),
    Conflict: (409, "conflict"),
    Invalid: (400, "invalid"),
}


_KEPT_HEADERS = frozenset({"Allow", "Retry-After"})  # a 405 names the methods it allows


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as err:
        return error_response(err.status, err.error, err.detail)
    except ParseError as err:
        return error_response(err.status, err.code, err.detail)
    except Unavailable as err:
        return unavailable_response(err)
    except ProviderUnavailable as err:  # before ProviderError, its base
        _LOGGER.warning("payment provider unavailable: %s", err)
        return error_response(
            503,
            "provider_unavailable",
            "the payment provider cannot be reached; retry later",
            {"Retry-After": str(RETRY_AFTER_S)},
        )
    except ProviderError as err:
        _LOGGER.error("payment provider error: %s", err)
        return error_response(502, "provider_error", "the payment provider's answer was unusable")
    except vol.Invalid as err:
        return error_response(400, "invalid", invalid_detail(err))
    except json.JSONDecodeError as err:
        return error_response(400, "malformed_json", f"the body is not valid JSON: {err.msg}")
    except ReferenceViolation:
        return error_response(404, "not_found", "a record the request refers to does not exist")
    except BillingError as err:  # a rule of the terms refused the step; its text says which
        return error_response(409, "refused", str(err))
    except StoreError as err:
        status, code = next(
            (v for k, v in _STORE_ERRORS.items() if isinstance(err, k)), (400, "invalid")
        )
        return error_response(status, code, str(err))
    except web.HTTPRequestEntityTooLarge as err:
        return error_response(413, "too_large", err.text or "the body is too large")
    except web.HTTPException as err:
        if err.status < 400:
            raise
        code = (err.reason or "error").lower().replace(" ", "_")
        headers = {k: v for k, v in err.headers.items() if k in _KEPT_HEADERS}
        return error_response(err.status, code, err.reason or "error", headers)
    except Exception:
        _LOGGER.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal", "internal error; it has been logged")
