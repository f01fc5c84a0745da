"""What the OCPI handlers share: the sub-application's keys, the calling party, paging."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from ..store import Store
from .client import OcpiClient
from .command_queue import Bell
from .envelope import CLIENT_ERROR, INVALID_PARAMETERS, OcpiError, envelope, token_candidates
from .parties import Parties, Party
from .settings import OcpiSettings

SETTINGS = web.AppKey("ocpi_settings", OcpiSettings)
OCPI_STORE = web.AppKey("ocpi_store", Store)
CLIENT = web.AppKey("ocpi_client", OcpiClient)
OCPI_CLOCK: web.AppKey[Callable[[], datetime]] = web.AppKey("ocpi_clock")
COMMAND_BELL = web.AppKey("ocpi_command_bell", Bell)
MAX_LIMIT = 100


async def party_of(request: web.Request, *, registered: bool = True) -> Party:
    """The calling party by its token; 401 in the envelope when unknown."""
    candidates = token_candidates(request.headers.get("Authorization", ""))
    party = await Parties(request.app[OCPI_STORE].db).by_token(candidates) if candidates else None
    if party is None:
        raise OcpiError(
            CLIENT_ERROR,
            "send 'Authorization: Token <base64 of your token>' with a token we issued",
            401,
        )
    if registered and party.status != "registered":
        raise OcpiError(CLIENT_ERROR, "register first (POST credentials with token A)", 401)
    return party


def page_args(request: web.Request) -> tuple[int, int]:
    """offset and limit of a paginated GET (limit capped at MAX_LIMIT)."""
    try:
        offset = int(request.query.get("offset", "0"))
        limit = min(int(request.query.get("limit", str(MAX_LIMIT))), MAX_LIMIT)
    except ValueError:
        raise OcpiError(INVALID_PARAMETERS, "offset and limit are whole numbers") from None
    if offset < 0 or limit < 1:
        raise OcpiError(INVALID_PARAMETERS, "offset >= 0 and limit >= 1")
    return offset, limit


def paged_response(
    request: web.Request,
    items: list[Any],
    total: int,
    offset: int,
    limit: int,
    filters: dict[str, str] | None = None,
) -> web.Response:
    """One page with X-Total-Count, X-Limit and Link rel="next" carrying the request's
    filters (OCPI §4.1.3)."""
    headers = {"X-Total-Count": str(total), "X-Limit": str(MAX_LIMIT)}
    if offset + len(items) < total and items:
        base = f"{request.app[SETTINGS].version_url}/{request.match_info.route.name}"
        query = urlencode({"offset": offset + len(items), "limit": limit, **(filters or {})})
        headers["Link"] = f'<{base}?{query}>; rel="next"'
    return envelope(items, headers=headers)
