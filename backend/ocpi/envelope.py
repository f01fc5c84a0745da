"""The OCPI response envelope, its status codes, and the token in the Authorization header.

Every OCPI answer is `{"data": …, "status_code": n, "status_message": text, "timestamp": …}`:
1000 success; 2xxx the client's fault (2001 invalid or missing parameters, 2003 unknown
location, 2004 unknown token); 3xxx ours or the other party's platform (3001 unable to use the
client's API, 3002 unsupported version, 3003 no matching endpoints). The HTTP status says the
same in HTTP terms (400/401/404/405/503/500) so proxies and logs see failures too.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from ..storage import Unavailable

_LOGGER = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SUCCESS = 1000
CLIENT_ERROR = 2000
INVALID_PARAMETERS = 2001
NOT_ENOUGH_INFORMATION = 2002
UNKNOWN_LOCATION = 2003
UNKNOWN_TOKEN = 2004
SERVER_ERROR = 3000
UNABLE_TO_USE_CLIENT_API = 3001
UNSUPPORTED_VERSION = 3002
NO_MATCHING_ENDPOINTS = 3003
MAX_BODY = 256 * 1024  # a CDR with many charging periods is a few KB
MAX_DEPTH = 16


class OcpiError(Exception):
    """An OCPI failure: `code` goes into the envelope, `http` is the HTTP status."""

    def __init__(self, code: int, message: str, http: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http = http


def timestamp(moment: datetime | None = None) -> str:
    """OCPI DateTime: UTC, seconds, 'Z' (the spec's format, no offset)."""
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _default(value: object) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # OCPI numbers are JSON numbers; ours have at most 4 decimals
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(value: Any) -> str:
    return json.dumps(value, default=_default, separators=(",", ":"))


def envelope(
    data: Any,
    *,
    code: int = SUCCESS,
    message: str = "Success",
    http: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = {"status_code": code, "status_message": message, "timestamp": timestamp()}
    if data is not None:
        body["data"] = data
    return web.Response(
        text=dumps(body), status=http, content_type="application/json", headers=headers
    )


def loads(text: str) -> Any:
    """JSON with exact decimals (money), bounded nesting; OcpiError 2001 on anything else."""
    depth = 0
    for char in text:  # nesting checked before parsing: no RecursionError on deep input
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise OcpiError(INVALID_PARAMETERS, f"JSON nested deeper than {MAX_DEPTH}")
        elif char in "]}":
            depth -= 1
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except ValueError as err:
        raise OcpiError(INVALID_PARAMETERS, f"the body is not JSON: {err}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


async def read_json(request: web.Request) -> Any:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise OcpiError(CLIENT_ERROR, f"the body is larger than {MAX_BODY} bytes", 413)
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise OcpiError(CLIENT_ERROR, f"the body is larger than {MAX_BODY} bytes", 413)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise OcpiError(INVALID_PARAMETERS, "the body is not UTF-8") from None
    return loads(text)


def token_candidates(header: str) -> list[str]:
    """The secrets an `Authorization: Token …` header may carry.

    OCPI 2.2.1 sends the token Base64-encoded; 2.1.1 platforms (and some hubs) send it as is,
    so both readings are tried (a party's token is looked up by hash, a wrong guess finds
    nothing)."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "token" or not value or len(value) > 512 or not value.isascii():
        return []
    found = [value]
    try:
        decoded = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return found
    if decoded and decoded.isprintable():
        found.insert(0, decoded)
    return found


def token_header(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


@web.middleware
async def ocpi_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure under /ocpi leaves in the envelope, never as the API's error JSON."""
    try:
        return await handler(request)
    except OcpiError as err:
        return envelope(None, code=err.code, message=err.message, http=err.http)
    except web.HTTPException as err:
        if err.status < 400:
            raise
        code = CLIENT_ERROR if err.status < 500 else SERVER_ERROR
        headers = {"Allow": err.headers["Allow"]} if "Allow" in err.headers else None
        return envelope(None, code=code, message=err.reason, http=err.status, headers=headers)
    except Unavailable as err:
        _LOGGER.warning("OCPI: database unavailable: %s", err)
        return envelope(
            None,
            code=SERVER_ERROR,
            message="the database is unavailable; retry",
            http=503,
            headers={"Retry-After": "5"},
        )
    except Exception:
        _LOGGER.exception("OCPI: %s %s failed", request.method, request.path)
        return envelope(None, code=SERVER_ERROR, message="internal error", http=500)
