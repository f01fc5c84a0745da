"""The sites' side of OCPI commands, under the sync API (site token):

GET  /api/v1/sync/commands[?wait=<s>]        the site's queued commands, each handed out once;
                                             with `wait` (at most 30 s) the call waits for one
POST /api/v1/sync/commands/{id}/result       the charger's answer, as a CommandResultType

A site sees and answers only the commands for its own charge points. Without OCPI set up
(`serve --ocpi-party`) both answer 404, and a site asks again only every few minutes.
"""

from __future__ import annotations

import asyncio

import voluptuous as vol
from aiohttp import web

from ..api.app_keys import CLOCK, STORE
from ..api.auth import site
from ..api.errors import ApiError
from ..api.http import body, ok, path_id
from .client import OcpiClient
from .command_queue import Bell, site_result, take_commands
from .commands import RESULTS

BELL = web.AppKey("ocpi_bell", Bell)
SITE_CLIENT = web.AppKey("ocpi_site_client", OcpiClient)
MAX_WAIT_S = 30
_INT32 = 2**31 - 1  # an OCPP reservation id
LOOK_EVERY_S = 5.0  # a command queued by another process is found within this
RESULT = vol.Schema(
    {
        vol.Required("result"): vol.In(RESULTS),
        vol.Optional("message"): vol.Any(None, vol.All(str, vol.Length(max=512))),
        vol.Optional("reservation_id"): vol.Any(
            None, vol.All(int, vol.Range(min=0, max=2**31 - 1))
        ),
    }
)


def _bell(request: web.Request) -> Bell:
    bell = request.app.get(BELL)
    if bell is None:
        raise ApiError(404, "not_found", "OCPI roaming is not set up on this back end")
    return bell


async def get_commands(request: web.Request) -> web.Response:
    own = await site(request)
    bell = _bell(request)
    text = request.query.get("wait", "0")
    if not (text.isascii() and text.isdigit() and len(text) <= 3):
        raise ApiError(400, "invalid", "wait is a whole number of seconds")
    loop = asyncio.get_running_loop()
    until = loop.time() + min(int(text), MAX_WAIT_S)
    store, clock = request.app[STORE], request.app[CLOCK]
    while True:
        items = await take_commands(store.db, own.id, now=clock())
        left = until - loop.time()
        gone = request.transport is None or request.transport.is_closing()
        if items or left <= 0 or gone or bell.closed:
            return ok({"items": items})
        await bell.wait(own.id, min(left, LOOK_EVERY_S))


async def post_result(request: web.Request) -> web.Response:
    own = await site(request)
    _bell(request)
    command_id = path_id(request)
    data = await body(request, RESULT)
    try:
        state = await site_result(
            request.app[STORE].db,
            request.app[SITE_CLIENT],
            own.id,
            command_id,
            data["result"],
            data.get("message"),
            data.get("reservation_id"),
            now=request.app[CLOCK](),
        )
    except LookupError:
        raise ApiError(404, "not_found", f"no command {command_id} taken by this site") from None
    if state == "timeout":
        raise ApiError(409, "conflict", "too late: the party was told TIMEOUT")
    return ok({"state": state})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/sync/commands", get_commands)
    app.router.add_post("/api/v1/sync/commands/{id}/result", post_result)


def enable(app: web.Application, client: OcpiClient) -> Bell:
    """OCPI is on: the bell the commands receiver rings, the client results go out with."""
    bell = app[BELL] = Bell()
    app[SITE_CLIENT] = client

    async def closing(_: web.Application) -> None:
        bell.close()

    app.on_shutdown.append(closing)  # type: ignore[arg-type]  # aiosignal typing skew
    return bell
