"""Request and response helpers: JSON bodies, pagination, ids, serialising records."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import voluptuous as vol
from aiohttp import web

from .. import parse
from .auth import scope
from .errors import ApiError

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


def plain(value: Any) -> Any:
    """Records → JSON values: times ISO-8601 UTC, Decimal as text (exact), enums by value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def ok(data: Any, status: int = 200) -> web.Response:
    return web.json_response(plain(data), status=status, dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


async def body(request: web.Request, schema: vol.Schema) -> Any:
    """The JSON body validated by `schema`: size (the app's client_max_size → 413), UTF-8,
    depth and strings checked by `parse.json_value` (→ 400) before the schema sees it."""
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    raw = await request.read()  # the app's client_max_size bounds it already
    return schema(parse.json_value(raw, max_bytes=None))


def path_id(request: web.Request, name: str = "id") -> int:
    text = request.match_info[name]
    try:
        return parse.digits(text, name)
    except parse.ParseError:
        raise ApiError(404, "not_found", f"no {name} {text[:40]!r}") from None


def page_args(request: web.Request) -> tuple[int, int]:
    """`?limit=` (1-200, default 50) and `?after=` (the last id of the previous page)."""
    limit = _int_query(request, "limit", DEFAULT_LIMIT)
    after = _int_query(request, "after", 0)
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, "invalid", f"limit must be between 1 and {MAX_LIMIT}")
    return limit, after


def _int_query(request: web.Request, name: str, default: int) -> int:
    text = request.query.get(name)
    return default if text is None else query_int(text, name)


def query_int(text: str, name: str) -> int:
    """A query parameter that is a non-negative integer (ASCII digits, at most 18)."""
    try:
        return parse.digits(text, name)
    except parse.ParseError as err:
        raise ApiError(400, "invalid", err.detail) from None


async def listing(request: web.Request, fetch: Callable[..., Awaitable[list[Any]]]) -> web.Response:
    """One page of `fetch(scope, limit=…, after=…)` in the caller's scope."""
    limit, after = page_args(request)
    return page(await fetch(scope(request), limit=limit, after=after), limit)


def page(items: list[Any], limit: int) -> web.Response:
    """`{"items": […], "next": <after for the next page> | null}`."""
    nxt = items[-1].id if len(items) == limit and items else None
    return ok({"items": items, "next": nxt})
