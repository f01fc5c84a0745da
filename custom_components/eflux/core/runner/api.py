"""The local HTTP API of the standalone runner (contract: docs/local-api.md).

aiohttp, JSON in and out, a bearer token when bound to a non-loopback address, and a
server-sent-events stream of site snapshots so that clients need not poll.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from aiohttp import web

from ..config import ApiSettings, ChargerBinding
from ..domain import DepartureRequest
from ..runtime import LocalSite, ReservationNotSupported, charger_dict
from . import (
    console,
    routes_decisions,
    routes_firmware,
    routes_metrics,
    routes_planner,
    routes_residents,
    routes_sessions,
)
from .admin_api import add_admin_routes
from .errors import ApiError, as_api_error, error_response
from .events import EventStream
from .guard import console_path, guard
from .jsonbody import BodyError, read_json

MAX_BODY_BYTES = 64 * 1024
HOUR = timedelta(hours=1)
SITE_KEY = web.AppKey("site", LocalSite)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_app(site: LocalSite, settings: ApiSettings) -> web.Application:
    app: web.Application = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[_errors, guard(settings.allowed_hosts), _auth(settings.token)],
    )
    app[SITE_KEY] = site
    stream = EventStream(site)

    async def close_stream(_app: web.Application) -> None:
        await stream.close()

    app.on_shutdown.append(close_stream)  # type: ignore[arg-type]  # aiosignal typing skew
    app.router.add_get("/api/site", get_site)
    app.router.add_get("/api/chargers", get_chargers)
    app.router.add_get("/api/chargers/{id}", get_charger)
    app.router.add_get("/api/events", stream.handle)
    app.router.add_post("/api/chargers/{id}/mode", post_mode)
    app.router.add_post("/api/chargers/{id}/max_current", post_max_current)
    app.router.add_post("/api/chargers/{id}/target_soc", post_target_soc)
    app.router.add_post("/api/chargers/{id}/start", post_start)
    app.router.add_post("/api/chargers/{id}/stop", post_stop)
    app.router.add_put("/api/chargers/{id}/departure", put_departure)
    app.router.add_delete("/api/chargers/{id}/departure", delete_departure)
    app.router.add_post("/api/chargers/{id}/reservation", post_reservation)
    app.router.add_delete("/api/chargers/{id}/reservation", delete_reservation)
    app.router.add_post("/api/chargers/{id}/ocpp/{action}", post_ocpp)
    app.router.add_get("/api/prices", get_prices)
    app.router.add_put("/api/prices", put_prices)
    app.router.add_delete("/api/prices", delete_prices)
    add_admin_routes(app, site)  # cards, charge points, approval (admin_api.py)
    routes_firmware.add_routes(app, SITE_KEY)
    routes_decisions.add_routes(app, SITE_KEY)
    routes_planner.add_routes(app, SITE_KEY)  # circuit limits, card vehicles, plan changes
    console.add_routes(app, SITE_KEY)  # the manager's console (runner/console, issue 17)
    routes_sessions.add_routes(app, SITE_KEY)  # session history, monthly totals per card
    routes_residents.add_routes(app)  # card → resident and apartment (the console's list)
    routes_metrics.add_routes(app, SITE_KEY)  # GET /metrics (Prometheus)
    return app


# ---- middlewares ------------------------------------------------------------------------------
@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as err:
        return error_response(err)
    except web.HTTPRequestEntityTooLarge:
        return error_response(ApiError(413, "too_large", f"body above {MAX_BODY_BYTES} bytes"))
    except web.HTTPNotFound:
        return error_response(ApiError(404, "not_found", f"no such path: {request.path}"))
    except web.HTTPMethodNotAllowed as err:
        return error_response(ApiError(405, "method_not_allowed", str(err)))
    except Exception as err:
        mapped = as_api_error(err)
        if mapped is None:
            raise
        return error_response(mapped)


def _auth(token: str | None) -> Any:
    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if token is not None and not console_path(request.path):  # its own login
            given = request.headers.get("Authorization", "")
            expected = f"Bearer {token}"
            if not hmac.compare_digest(given.encode(), expected.encode()):
                raise ApiError(401, "unauthorized", "missing or wrong bearer token")
        return await handler(request)

    return check


# ---- reading ----------------------------------------------------------------------------------
async def get_site(request: web.Request) -> web.Response:
    return web.json_response(request.app[SITE_KEY].state().site_dict())


async def get_chargers(request: web.Request) -> web.Response:
    chargers = request.app[SITE_KEY].state().as_dict()["chargers"]
    return web.json_response({"chargers": list(chargers.values())})


async def get_charger(request: web.Request) -> web.Response:
    return _charger(request)


def _charger(request: web.Request) -> web.Response:
    snapshot = request.app[SITE_KEY].charger_state(request.match_info["id"])
    return web.json_response(charger_dict(snapshot))


# ---- commands ---------------------------------------------------------------------------------
async def post_mode(request: web.Request) -> web.Response:
    body = await _body(request)
    mode = _field(body, "mode", (str, type(None)))
    await request.app[SITE_KEY].set_mode(request.match_info["id"], mode)
    return _charger(request)


async def post_max_current(request: web.Request) -> web.Response:
    body = await _body(request)
    amps = _number(body, "amps", low=0.0, high=1000.0, nullable=True)
    await request.app[SITE_KEY].set_max_current(request.match_info["id"], amps)
    return _charger(request)


async def post_target_soc(request: web.Request) -> web.Response:
    body = await _body(request)
    soc = _number(body, "soc", low=0.0, high=100.0, nullable=True)
    await request.app[SITE_KEY].set_target_soc(request.match_info["id"], soc)
    return _charger(request)


async def post_start(request: web.Request) -> web.Response:
    body = await _body(request, empty_ok=True)
    id_tag = _field(body, "id_tag", (str, type(None)), required=False)
    status = await request.app[SITE_KEY].start_charging(request.match_info["id"], id_tag)
    return web.json_response({"status": status})


async def post_stop(request: web.Request) -> web.Response:
    await _body(request, empty_ok=True)
    status = await request.app[SITE_KEY].stop_charging(request.match_info["id"])
    return web.json_response({"status": status})


async def put_departure(request: web.Request) -> web.Response:
    body = await _body(request)
    site = request.app[SITE_KEY]
    binding = _binding(request)
    departure = DepartureRequest(
        charge_point_id=binding.charge_point_id,
        connector_id=binding.connector_id,
        departure_at=_time(body, "departure_at"),
        soc_now=_number(body, "soc_now", low=0.0, high=100.0, nullable=True),
        target_soc=_default(_number(body, "target_soc", low=0.0, high=100.0, nullable=True), 100.0),
        battery_kwh=_number(body, "battery_kwh", low=0.1, high=1000.0, nullable=True),
        max_power_kw=_number(body, "max_power_kw", low=0.1, high=1000.0, nullable=True),
    )
    unknown = set(body) - {
        "departure_at",
        "soc_now",
        "target_soc",
        "battery_kwh",
        "max_power_kw",
    }
    if unknown:
        raise ApiError(400, "bad_request", f"unknown field {sorted(unknown)[0]!r}")
    await site.set_departure(departure)
    # Plan now rather than at the next turn of the loop, so that the answer already carries
    # the plan and the stay's flexibility price (the app shows them at once).
    site.recompute()
    return _charger(request)


async def delete_departure(request: web.Request) -> web.Response:
    await request.app[SITE_KEY].clear_departure(request.match_info["id"])
    return _charger(request)


async def post_reservation(request: web.Request) -> web.Response:
    """ReserveNow on the charger's connector: only `id_tag` may start there until
    `expires_at`. Answers the charger's state, whose `reservation` carries the id."""
    body = await _body(request)
    unknown = set(body) - {"id_tag", "expires_at"}
    if unknown:
        raise ApiError(400, "bad_request", f"unknown field {sorted(unknown)[0]!r}")
    id_tag = _field(body, "id_tag", (str,))
    if not id_tag.strip():
        raise ApiError(400, "bad_request", "id_tag must not be empty")
    expires_at = _time(body, "expires_at")
    _binding(request)
    try:
        await request.app[SITE_KEY].reserve(request.match_info["id"], id_tag, expires_at)
    except ReservationNotSupported as err:
        raise ApiError(409, "not_supported", str(err)) from None
    return _charger(request)


async def delete_reservation(request: web.Request) -> web.Response:
    """CancelReservation of the connector's open reservation."""
    _binding(request)
    if await request.app[SITE_KEY].cancel_reservation(request.match_info["id"]) is None:
        raise ApiError(404, "not_found", f"charger {request.match_info['id']!r} has no reservation")
    return _charger(request)


def _binding(request: web.Request) -> ChargerBinding:
    """The charger of the path (404 when unknown), before the request is looked at further."""
    try:
        return request.app[SITE_KEY].binding(request.match_info["id"])
    except KeyError as err:
        raise ApiError(404, "not_found", str(err.args[0])) from None


async def post_ocpp(request: web.Request) -> web.Response:
    site = request.app[SITE_KEY]
    ident = request.match_info["id"]
    _binding(request)
    action = request.match_info["action"]
    if not action.isascii() or not action.isalnum() or len(action) > 64:
        raise ApiError(400, "bad_request", f"not an OCPP action name: {action!r}")
    payload = await _body(request, empty_ok=True)
    response = await site.send_ocpp(ident, action, payload)
    return web.json_response({"response": response})


# ---- prices -----------------------------------------------------------------------------------
async def get_prices(request: web.Request) -> web.Response:
    return web.json_response(_prices(request.app[SITE_KEY]))


async def put_prices(request: web.Request) -> web.Response:
    """Day-ahead prices over the tariff: a list of {start, end?, price}, or {"prices": [...]}.
    Numbers are read as decimals from the JSON text (money is never float)."""
    raw = await request.read()
    try:  # bounded like _body (deep nesting raised RecursionError → 500)
        data = read_json(
            raw, max_bytes=MAX_BODY_BYTES, parse_float=Decimal, parse_constant=_no_constant
        )
    except BodyError as err:
        raise ApiError(400, "bad_request", str(err)) from None
    if isinstance(data, dict):
        unknown = sorted(set(data) - {"prices"})
        if unknown:
            raise ApiError(400, "bad_request", f"unknown field {unknown[0]!r}")
        data = data.get("prices")
    site = request.app[SITE_KEY]
    hours = await site.push_prices(data)
    return web.json_response({"hours_set": hours, **_prices(site)})


async def delete_prices(request: web.Request) -> web.Response:
    site = request.app[SITE_KEY]
    await site.clear_prices()
    return web.json_response(_prices(site))


def _prices(site: LocalSite) -> dict[str, Any]:
    """The next 48 hours as the planner prices them, and where each price comes from."""
    return {
        "timezone": site.config.timezone,
        "prices": [
            {
                "start": row.start.isoformat(),
                "end": (row.start + HOUR).isoformat(),
                "price": None if row.price is None else str(row.price),
                "source": row.source,
            }
            for row in site.price_table()
        ],
    }


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a price")


# ---- body helpers -----------------------------------------------------------------------------
async def _body(request: web.Request, *, empty_ok: bool = False) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        if empty_ok:
            return {}
        raise ApiError(400, "bad_request", "a JSON object is required")
    try:
        data = read_json(raw, max_bytes=MAX_BODY_BYTES)
    except BodyError as err:  # too deep, not UTF-8, NUL or lone surrogate: 400, never a 500
        raise ApiError(400, "bad_request", str(err)) from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "body must be a JSON object")
    return data


def _field(
    body: dict[str, Any], name: str, kinds: tuple[type, ...], *, required: bool = True
) -> Any:
    if name not in body:
        if required:
            raise ApiError(400, "bad_request", f"{name} is required")
        return None
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise ApiError(400, "bad_request", f"{name} has the wrong type: {value!r}")
    return value


def _number(
    body: dict[str, Any], name: str, *, low: float, high: float, nullable: bool
) -> float | None:
    value = body.get(name)
    if value is None:
        if nullable:
            return None
        raise ApiError(400, "bad_request", f"{name} is required")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ApiError(400, "bad_request", f"{name} must be a number, got {value!r}")
    if not low <= value <= high:
        raise ApiError(400, "bad_request", f"{name} must be between {low:g} and {high:g}")
    return float(value)


def _default(value: float | None, default: float) -> float:
    return default if value is None else value


def _time(body: dict[str, Any], name: str) -> datetime:
    value = _field(body, name, (str,))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(400, "bad_request", f"{name} is not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise ApiError(400, "bad_request", f"{name} needs a UTC offset (e.g. +01:00 or Z)")
    return moment.astimezone(UTC)
