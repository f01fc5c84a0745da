"""Installation orders (seed 002), as the portal's advisor and admin page make them: the
advice for a situation, ordering it (for the caller's account; an admin may name another),
the orders in the caller's scope, and an administrator's steps (appointment, installed,
inspection, approved with the charge point added to the account, or rejected with reasons).
The rules are backend.billing's (advisor, installation); the store keeps and audits them."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import voluptuous as vol
from aiohttp import web

from ..billing.advisor import RANGES, Situation, recommend, situation
from ..billing.calendar import local_date
from ..services import installations
from ..store import Step, StepAction
from . import schemas
from .app_keys import CLOCK, STORE
from .auth import actor, admin, owner, scope
from .http import body, ok, path_id


def _decimal(name: str) -> Callable[[Any], Decimal]:
    """A number or decimal text within the advisor's range for `name` (billing.advisor)."""
    low, high = RANGES[name]

    def check(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise vol.Invalid("expected a number")
        try:
            number = Decimal(str(value))
        except InvalidOperation as err:
            raise vol.Invalid("expected a number") from err
        if not number.is_finite() or not low <= number <= high:
            raise vol.Invalid(f"expected a number from {low} to {high}")
        return number

    return check


ANSWERS = {
    vol.Required("phases"): vol.In([1, 3]),
    vol.Required("cable_mm2"): _decimal("cable_mm2"),
    vol.Required("car_max_kw"): _decimal("car_max_kw"),
    vol.Required("battery_kwh"): _decimal("battery_kwh"),
    vol.Optional("location", default="private"): vol.In(["private", "public"]),
    vol.Optional("outdoor", default=False): bool,
    vol.Optional("limited_power", default=False): bool,
    vol.Optional("back_office", default=False): bool,
}
ADVICE = vol.Schema(ANSWERS)
ORDER = vol.Schema(
    {
        **ANSWERS,
        vol.Optional("account_id"): schemas.ID,
        vol.Optional("plan"): schemas.text(60),
        vol.Optional("immediate_start", default=False): bool,
    }
)
STEP = vol.Schema(
    {
        vol.Required("action"): vol.Coerce(StepAction),
        vol.Required("on"): schemas.day,
        vol.Optional("date"): schemas.day,
        vol.Optional("text", default=""): schemas.text(2000, 0),
    }
)


def _situation(data: dict[str, Any]) -> Situation:
    return situation(
        data["phases"],
        data["cable_mm2"],
        data["car_max_kw"],
        data["battery_kwh"],
        public=data["location"] == "public",
        outdoor=data["outdoor"],
        limited_power=data["limited_power"],
        back_office=data["back_office"],
    )


async def advise(request: web.Request) -> web.Response:
    """The advisor's recommendation for a situation (nothing is stored)."""
    data = await body(request, ADVICE)
    return ok(recommend(_situation(data)))


async def create_order(request: web.Request) -> web.Response:
    data = await body(request, ORDER)
    account_id = await owner(request, data.pop("account_id", None))
    advice = recommend(_situation(data))  # worked out here: a client's advice is not taken
    now = request.app[CLOCK]()
    stored = await request.app[STORE].installations.create(
        account_id,
        advice,
        now=now,
        today=local_date(now),
        actor=actor(request),
        plan_code=data.get("plan"),
        immediate_start=data["immediate_start"],
    )
    return ok(stored, 201)


async def list_orders(request: web.Request) -> web.Response:
    return ok({"items": await request.app[STORE].installations.list(scope(request))})


async def get_order(request: web.Request) -> web.Response:
    return ok(await request.app[STORE].installations.get(path_id(request), scope(request)))


async def step(request: web.Request) -> web.Response:
    admin(request)
    data = await body(request, STEP)
    stored = await installations.step(
        request.app[STORE],
        path_id(request),
        Step(data["action"], data["on"], data.get("date"), data["text"]),
        now=request.app[CLOCK](),
        actor=actor(request),
    )
    return ok(stored)


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/v1/installation-orders/advice", advise)
    r.add_get("/api/v1/installation-orders", list_orders)
    r.add_post("/api/v1/installation-orders", create_order)
    r.add_get("/api/v1/installation-orders/{id}", get_order)
    r.add_post("/api/v1/installation-orders/{id}/steps", step)
