"""The OCPI routes of live charging: Sessions (§9) and Commands (§13).

GET   /ocpi/2.2.1/sessions?date_from=&date_to=&offset=&limit=     CPO: the party's sessions
PUT   /ocpi/2.2.1/sessions/{session_id}/charging_preferences       CPO: not offered (404/2001)
GET|PUT|PATCH /ocpi/2.2.1/sessions/{country_code}/{party_id}/{id}  eMSP: a CPO's sessions
POST  /ocpi/2.2.1/commands/{command}                               CPO: a command to a charger
POST  /ocpi/2.2.1/commands/{command}/{uid}                         eMSP: a command's result
"""

from __future__ import annotations

from aiohttp import web

from .commands import receive_command
from .commands_out import receive_result
from .envelope import CLIENT_ERROR, INVALID_PARAMETERS, OcpiError, envelope, read_json
from .keys import (
    COMMAND_BELL,
    OCPI_CLOCK,
    OCPI_STORE,
    SETTINGS,
    page_args,
    paged_response,
    party_of,
)
from .sessions import (
    our_sessions,
    patch_session,
    put_session,
    received_session,
    when,
)
from .settings import VERSION


async def list_sessions(request: web.Request) -> web.Response:
    party = await party_of(request)
    query = request.query
    if "date_from" not in query:
        raise OcpiError(INVALID_PARAMETERS, "date_from is required (OCPI 2.2.1 §9.2.1.1)")
    filters = {"date_from": query["date_from"]}
    date_to = None
    if "date_to" in query:
        filters["date_to"] = query["date_to"]
        date_to = when(query["date_to"], "date_to")
    offset, limit = page_args(request)
    items, total = await our_sessions(
        request.app[OCPI_STORE].db,
        request.app[SETTINGS],
        party,
        date_from=when(query["date_from"], "date_from"),
        date_to=date_to,
        offset=offset,
        limit=limit,
    )
    return paged_response(request, items, total, offset, limit, filters)


async def charging_preferences(request: web.Request) -> web.Response:
    await party_of(request)
    raise OcpiError(
        INVALID_PARAMETERS,
        "our EVSEs are not CHARGING_PREFERENCES_CAPABLE",
        404,
    )


def _session_path(request: web.Request) -> tuple[str, str, str]:
    info = request.match_info
    return info["cc"], info["pid"], info["sid"]


async def session_receiver(request: web.Request) -> web.Response:
    app = request.app
    party = await party_of(request)
    path = _session_path(request)
    db = app[OCPI_STORE].db
    if request.method == "GET":
        found = await received_session(db, party, path)
        if found is None:
            raise OcpiError(CLIENT_ERROR, "unknown session", 404)
        return envelope(found)
    body = await read_json(request)
    store = put_session if request.method == "PUT" else patch_session
    await store(db, app[SETTINGS], party, path, body, now=app[OCPI_CLOCK]())
    return envelope(None)


async def post_command(request: web.Request) -> web.Response:
    app = request.app
    party = await party_of(request)
    body = await read_json(request)
    answer = await receive_command(
        app[OCPI_STORE].db,
        party,
        request.match_info["command"],
        body,
        app[COMMAND_BELL],
        now=app[OCPI_CLOCK](),
    )
    message = "Success" if answer.code == 1000 else answer.message
    return envelope(answer.body(), code=answer.code, message=message, http=answer.http)


async def post_result(request: web.Request) -> web.Response:
    app = request.app
    party = await party_of(request)
    body = await read_json(request)
    info = request.match_info
    await receive_result(
        app[OCPI_STORE].db, party, info["command"], info["uid"], body, now=app[OCPI_CLOCK]()
    )
    return envelope(None)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get(f"/{VERSION}/sessions", list_sessions, name="sessions")
    r.add_put(f"/{VERSION}/sessions/{{sid}}/charging_preferences", charging_preferences)
    for method in ("GET", "PUT", "PATCH"):
        r.add_route(method, f"/{VERSION}/sessions/{{cc}}/{{pid}}/{{sid}}", session_receiver)
    r.add_post(f"/{VERSION}/commands/{{command}}", post_command)
    r.add_post(f"/{VERSION}/commands/{{command}}/{{uid}}", post_result)
