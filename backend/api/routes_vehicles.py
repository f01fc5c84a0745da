"""The driver and car a card names: `GET/PUT /api/v1/cards/{id}/vehicle` (issue 16.5).

The card's owner (or an admin) sets it; its sites get it in their next card delta and plan the
sessions started with the card with that car. GET answers 404 while the card names none.
"""

from __future__ import annotations

import re
from typing import Any

import voluptuous as vol
from aiohttp import web

from . import schemas
from .app_keys import CLOCK, STORE
from .auth import actor, scope
from .errors import ApiError
from .http import body, ok, path_id

_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _clock_time(value: Any) -> str:
    if not isinstance(value, str) or _CLOCK_TIME.match(value) is None:
        raise vol.Invalid("expected a time HH:MM")
    return value


def _kw(low: float, high: float) -> vol.Any:
    return vol.Any(None, vol.All(schemas.number, vol.Range(min=low, max=high)))


CAR = vol.Schema(
    {
        vol.Optional("name", default=""): vol.Any("", schemas.text(60)),
        vol.Optional("battery_kwh"): _kw(1, 1000),
        vol.Optional("max_power_kw"): _kw(1, 1000),
        vol.Optional("phases"): vol.Any(None, vol.All(schemas.integer, vol.In([1, 3]))),
        vol.Optional("target_soc"): _kw(1, 100),
        vol.Optional("departures", default=dict): {vol.In(_DAYS): _clock_time},
    }
)
VEHICLE = vol.Schema(
    {
        vol.Optional("driver", default=""): vol.Any("", schemas.text(100)),
        vol.Required("car"): CAR,
    }
)


async def get_vehicle(request: web.Request) -> web.Response:
    found = await request.app[STORE].vehicles.get(path_id(request), scope(request))
    if found is None:
        raise ApiError(404, "not_found", "this card names no driver or car")
    return ok({"card_id": found.card_id, "driver": found.driver, "car": found.car})


async def put_vehicle(request: web.Request) -> web.Response:
    data = await body(request, VEHICLE)
    saved = await request.app[STORE].vehicles.put(
        path_id(request),
        scope(request),
        data["driver"],
        data["car"],
        now=request.app[CLOCK](),
        actor=actor(request),
    )
    return ok({"card_id": saved.card_id, "driver": saved.driver, "car": saved.car})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/cards/{id}/vehicle", get_vehicle)
    app.router.add_put("/api/v1/cards/{id}/vehicle", put_vehicle)
