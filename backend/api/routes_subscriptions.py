"""Plans, applying for one (the operator accepts or rejects: admin), and a subscription's own
steps as the portal offers them: its dates (minimum-term end, last day for notice), ordinary
notice (art. 13.1) and a plan switch with its fee (art. 12.2), previewed first. A customer acts
on its own subscriptions only (another account's id is a 404); the rules are
backend.services.subscriptions' (the portal and the CLI call the same functions)."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from aiohttp import web

from ..billing.calendar import local_date
from ..billing.contracts import ContractStatus
from ..billing.money import Basis
from ..billing.plans import PlanForm, PlanKind
from ..billing.switches import PlanSwitch
from ..services import plans, withdrawal
from ..services import subscriptions as service
from . import schemas
from .app_keys import CLOCK, STORE
from .auth import actor, admin, owner, scope
from .errors import ApiError
from .http import body, ok, path_id

PLAN_CODE = schemas.text(60)
SWITCH = vol.Schema({vol.Required("plan"): PLAN_CODE})
APPLY = vol.Schema(
    {
        vol.Required("plan"): PLAN_CODE,
        vol.Optional("card_id"): schemas.ID,
        vol.Optional("charge_point_id"): schemas.ID,
        vol.Optional("immediate_start", default=False): bool,
        vol.Optional("account_id"): schemas.ID,
    }
)
DECIDE = vol.Schema({vol.Optional("on"): schemas.day})
COUNT = vol.All(schemas.integer, vol.Range(min=0, max=10**12))
PLAN = vol.Schema(
    {
        vol.Required("code"): vol.All(PLAN_CODE, vol.Match(r"^[A-Z0-9-]+$")),
        vol.Required("name"): schemas.NAME,
        vol.Required("kind"): vol.Coerce(PlanKind),
        vol.Required("form"): vol.Coerce(PlanForm),
        vol.Optional("monthly_fee_cents", default=0): COUNT,
        vol.Optional("fee_basis", default="incl_vat"): vol.Coerce(Basis),
        vol.Optional("bundle"): vol.Any(
            None,
            {
                vol.Optional("energy_wh", default=0): COUNT,
                vol.Optional("connected_minutes", default=0): COUNT,
                vol.Optional("fast_energy_wh", default=0): COUNT,
            },
        ),
        vol.Optional("overage", default={}): {
            vol.Optional("per_kwh_cents", default=0): schemas.cents,
            vol.Optional("per_connected_hour_cents", default=0): schemas.cents,
            vol.Optional("per_fast_kwh_cents", default=0): schemas.cents,
        },
        vol.Optional("duration_years"): vol.Any(None, vol.In([1, 2, 3])),
    }
)
_NOTICE_TAKEN = {ContractStatus.ACCEPTED, ContractStatus.ACTIVE}


def _switch(planned: PlanSwitch) -> dict[str, Any]:
    return {
        "plan_code": planned.new_plan.code,
        "effective_on": planned.effective_on,
        "fee_cents": planned.fee.cents,
        "fee_basis": planned.fee.basis.value,
    }


async def list_plans(request: web.Request) -> web.Response:
    plans = await service.load_plans(request.app[STORE].db)
    return ok({"items": list(plans.values())})


async def add_plan(request: web.Request) -> web.Response:
    """A new plan on offer (administrators); billing's rules check it (400 otherwise)."""
    admin(request)
    data = await body(request, PLAN)
    plan = plans.new_plan(**data)
    created = await plans.add_plan(
        request.app[STORE].db, plan, now=request.app[CLOCK](), actor=actor(request)
    )
    return ok(created, 201)


async def _view(request: web.Request, view: service.SubscriptionView) -> dict[str, Any]:
    today = local_date(request.app[CLOCK]())
    data = view.summary()
    pending = (await service.pending_switches(request.app[STORE].db, today)).get(view.id)
    data["pending_switch"] = _switch(pending) if pending else None
    data["notice_today"] = None
    if view.status in _NOTICE_TAKEN:
        rule, ends_on = service.notice_terms(view, today)
        data["notice_today"] = {"rule": rule, "ends_on": ends_on}
    return data


async def get_subscription(request: web.Request) -> web.Response:
    today = local_date(request.app[CLOCK]())
    view = await service.subscription(
        request.app[STORE].db, path_id(request), scope(request), today
    )
    return ok(await _view(request, view))


async def give_notice(request: web.Request) -> web.Response:
    await body(request, schemas.EMPTY)
    now = request.app[CLOCK]()
    view = await service.give_notice_now(
        request.app[STORE].db,
        path_id(request),
        scope(request),
        local_date(now),
        now=now,
        actor=actor(request),
    )
    return ok(await _view(request, view))


async def withdraw(request: web.Request) -> web.Response:
    """A consumer's withdrawal within the 14 days of cooling-off (art. 3.5, 29)."""
    await body(request, schemas.EMPTY)
    now = request.app[CLOCK]()
    done = await withdrawal.withdraw_now(
        request.app[STORE].db,
        path_id(request),
        scope(request),
        local_date(now),
        now=now,
        actor=actor(request),
    )
    return ok(done)


async def preview_switch(request: web.Request) -> web.Response:
    """`?plan=CODE`: the switch as it would be recorded today (refused here already)."""
    code = request.query.get("plan")
    if not code:
        raise ApiError(400, "invalid", "name the new plan: ?plan=CODE")
    PLAN_CODE(code)
    _, _, planned = await service.preview_switch(
        request.app[STORE].db,
        path_id(request),
        scope(request),
        code,
        local_date(request.app[CLOCK]()),
    )
    return ok(_switch(planned))


async def switch_plan(request: web.Request) -> web.Response:
    data = await body(request, SWITCH)
    now = request.app[CLOCK]()
    record = await service.switch_plan(
        request.app[STORE].db,
        path_id(request),
        scope(request),
        data["plan"],
        local_date(now),
        now=now,
        actor=actor(request),
    )
    return ok(record, 201)


async def apply(request: web.Request) -> web.Response:
    """Apply for a plan (the caller's account; an admin may name another)."""
    data = await body(request, APPLY)
    account_id = await owner(request, data.get("account_id"))
    now = request.app[CLOCK]()
    view = await service.apply(
        request.app[STORE].db,
        account_id,
        data["plan"],
        local_date(now),
        card_id=data.get("card_id"),
        charge_point_id=data.get("charge_point_id"),
        immediate_start=data["immediate_start"],
        now=now,
        actor=actor(request),
    )
    return ok(await _view(request, view), 201)


async def accept(request: web.Request) -> web.Response:
    admin(request)
    data = await body(request, DECIDE)
    now = request.app[CLOCK]()
    view = await service.accept_application(
        request.app[STORE].db,
        path_id(request),
        data.get("on") or local_date(now),
        now=now,
        actor=actor(request),
    )
    return ok(await _view(request, view))


async def reject(request: web.Request) -> web.Response:
    admin(request)
    data = await body(request, DECIDE)
    now = request.app[CLOCK]()
    sub_id = path_id(request)
    await service.reject_application(
        request.app[STORE].db,
        sub_id,
        data.get("on") or local_date(now),
        now=now,
        actor=actor(request),
    )
    return ok({"id": sub_id, "status": ContractStatus.REJECTED.value})


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/plans", list_plans)
    r.add_post("/api/v1/plans", add_plan)
    r.add_post("/api/v1/subscriptions", apply)
    r.add_get("/api/v1/subscriptions/{id}", get_subscription)
    r.add_post("/api/v1/subscriptions/{id}/accept", accept)
    r.add_post("/api/v1/subscriptions/{id}/reject", reject)
    r.add_post("/api/v1/subscriptions/{id}/notice", give_notice)
    r.add_post("/api/v1/subscriptions/{id}/withdraw", withdraw)
    r.add_get("/api/v1/subscriptions/{id}/switch", preview_switch)
    r.add_post("/api/v1/subscriptions/{id}/switch", switch_plan)
