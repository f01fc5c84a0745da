"""The OCPI 2.2.1 routes, a sub-application under /ocpi with its own envelope and token auth.

GET  /ocpi/versions                      versions (token A, B or C)
GET  /ocpi/2.2.1                         version details: our endpoints
GET|POST|PUT|DELETE /ocpi/2.2.1/credentials
POST /ocpi/2.2.1/cdrs, GET /ocpi/2.2.1/cdrs/{id}                       eMSP: CDRs in
GET|PUT|PATCH /ocpi/2.2.1/tokens/{country_code}/{party_id}/{uid}[?type=]   CPO: tokens in
GET  /ocpi/2.2.1/locations[/{id}], GET /ocpi/2.2.1/tariffs             CPO: published
sessions and commands: routes_live.py
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from ..store import Store
from .cdrs_in import cdr_body, receive_cdr
from .client import OcpiClient
from .command_queue import Bell
from .cpo import locations, tariffs
from .credentials import accept, our_credentials
from .envelope import (
    CLIENT_ERROR,
    INVALID_PARAMETERS,
    UNKNOWN_LOCATION,
    UNKNOWN_TOKEN,
    OcpiError,
    envelope,
    ocpi_middleware,
    read_json,
    token_candidates,
)
from .keys import (
    CLIENT,
    COMMAND_BELL,
    OCPI_CLOCK,
    OCPI_STORE,
    SETTINGS,
    page_args,
    paged_response,
    party_of,
)
from .parties import Parties
from .routes_live import add_routes
from .settings import MODULES, VERSION, OcpiSettings
from .tokens import TOKEN_TYPES, patch_token, store_token, stored_token


async def versions(request: web.Request) -> web.Response:
    await party_of(request, registered=False)
    settings = request.app[SETTINGS]
    return envelope([{"version": VERSION, "url": settings.version_url}])


async def version_details(request: web.Request) -> web.Response:
    await party_of(request, registered=False)
    base = request.app[SETTINGS].version_url
    return envelope(
        {
            "version": VERSION,
            "endpoints": [
                {"identifier": module, "role": role, "url": f"{base}/{module}"}
                for module, role in MODULES
            ],
        }
    )


async def credentials(request: web.Request) -> web.Response:
    app = request.app
    if request.method not in ("GET", "POST", "PUT", "DELETE"):
        raise OcpiError(CLIENT_ERROR, f"{request.method} is not allowed here", 405)
    party = await party_of(request, registered=False)
    parties = Parties(app[OCPI_STORE].db)
    if request.method == "GET":
        presented = token_candidates(request.headers["Authorization"])
        return envelope(our_credentials(app[SETTINGS], presented[0]))
    if request.method == "DELETE":
        if party.status != "registered":
            raise OcpiError(CLIENT_ERROR, "not registered", 405)
        await parties.unregister(party.id, now=app[OCPI_CLOCK]())
        return envelope(None)
    if (request.method == "POST") == (party.status == "registered"):
        raise OcpiError(CLIENT_ERROR, "POST registers (token A), PUT updates a registration", 405)
    body = await read_json(request)
    answer = await accept(parties, app[SETTINGS], app[CLIENT], party, body, now=app[OCPI_CLOCK]())
    return envelope(answer)


async def post_cdr(request: web.Request) -> web.Response:
    app = request.app
    party = await party_of(request)
    body = await read_json(request)
    store = app[OCPI_STORE]
    got = await receive_cdr(store.db, store.sessions, party, body, now=app[OCPI_CLOCK]())
    location = f"{app[SETTINGS].version_url}/cdrs/{got.row_id}"
    return envelope(None, headers={"Location": location})


async def get_cdr(request: web.Request) -> web.Response:
    party = await party_of(request)
    text = request.match_info["cdr"]
    found = None
    if text.isascii() and text.isdigit() and len(text) <= 18:
        found = await cdr_body(request.app[OCPI_STORE].db, party, int(text))
    if found is None:
        raise OcpiError(CLIENT_ERROR, f"no CDR {text[:40]!r} of yours here", 404)
    return envelope(json.loads(found))


def _token_path(request: web.Request) -> tuple[tuple[str, str, str], str]:
    info = request.match_info
    token_type = request.query.get("type", "RFID")
    if token_type not in TOKEN_TYPES:
        raise OcpiError(INVALID_PARAMETERS, f"type must be one of {', '.join(TOKEN_TYPES)}")
    return (info["cc"], info["pid"], info["uid"]), token_type


async def put_token(request: web.Request) -> web.Response:
    party = await party_of(request)
    path, token_type = _token_path(request)
    body = await read_json(request)
    await store_token(request.app[OCPI_STORE].db, party, path, token_type, body)
    return envelope(None)


async def patch_token_route(request: web.Request) -> web.Response:
    party = await party_of(request)
    path, token_type = _token_path(request)
    body = await read_json(request)
    await patch_token(request.app[OCPI_STORE].db, party, path, token_type, body)
    return envelope(None)


async def get_token(request: web.Request) -> web.Response:
    party = await party_of(request)
    path, token_type = _token_path(request)
    found = await stored_token(request.app[OCPI_STORE].db, party, path, token_type)
    if found is None:
        raise OcpiError(UNKNOWN_TOKEN, "unknown token", 404)
    return envelope(json.loads(found))


def _paged(request: web.Request, items: list[Any]) -> web.Response:
    offset, limit = page_args(request)
    return paged_response(request, items[offset : offset + limit], len(items), offset, limit)


async def list_locations(request: web.Request) -> web.Response:
    await party_of(request)
    return _paged(request, list(await locations(request.app[OCPI_STORE].db, request.app[SETTINGS])))


async def get_location(request: web.Request) -> web.Response:
    await party_of(request)
    wanted = request.match_info["location"]
    for found in await locations(request.app[OCPI_STORE].db, request.app[SETTINGS]):
        if found["id"] == wanted:
            return envelope(found)
    raise OcpiError(UNKNOWN_LOCATION, "unknown location", 404)


async def list_tariffs(request: web.Request) -> web.Response:
    await party_of(request)
    return _paged(request, list(await tariffs(request.app[OCPI_STORE].db, request.app[SETTINGS])))


def ocpi_app(
    store: Store,
    settings: OcpiSettings,
    client: OcpiClient,
    clock: Callable[[], datetime],
    bell: Bell,
) -> web.Application:
    app = web.Application(middlewares=[ocpi_middleware])
    app[COMMAND_BELL] = bell
    app[OCPI_STORE] = store
    app[SETTINGS] = settings
    app[CLIENT] = client
    app[OCPI_CLOCK] = clock
    r = app.router
    r.add_get("/versions", versions)
    r.add_get(f"/{VERSION}", version_details)
    r.add_route("*", f"/{VERSION}/credentials", credentials)
    r.add_post(f"/{VERSION}/cdrs", post_cdr)
    r.add_get(f"/{VERSION}/cdrs/{{cdr}}", get_cdr)
    r.add_put(f"/{VERSION}/tokens/{{cc}}/{{pid}}/{{uid}}", put_token)
    r.add_patch(f"/{VERSION}/tokens/{{cc}}/{{pid}}/{{uid}}", patch_token_route)
    r.add_get(f"/{VERSION}/tokens/{{cc}}/{{pid}}/{{uid}}", get_token)
    r.add_get(f"/{VERSION}/locations", list_locations, name="locations")
    r.add_get(f"/{VERSION}/locations/{{location}}", get_location)
    r.add_get(f"/{VERSION}/tariffs", list_tariffs, name="tariffs")
    add_routes(app)
    return app
