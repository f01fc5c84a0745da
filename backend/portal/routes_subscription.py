"""Subscription: plan, minimum-term end, last day for notice; switch plan (fee shown first);
cancel, with the rule that applies in plain words. Dates and refusals come from backend.billing."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from ..billing.plans import SWITCH_FEE
from ..services import subscriptions as contracts
from ..store import NotFound
from .ctx import account_of, actor_of, db_of, now_of, path_id, today_of
from .forms import field
from .middleware import redirect
from .render import render


async def subscription_page(request: web.Request) -> web.Response:
    today = today_of(request)
    views = await contracts.subscriptions(db_of(request), account_of(request), today)
    return render(
        request,
        "subscription.html",
        subs=views,
        plans=await contracts.load_plans(db_of(request)),
        pending=await contracts.pending_switches(db_of(request), today),
        today=today,
        fee=SWITCH_FEE.cents,
        done=request.query.get("done", ""),
    )


async def _plan(request: web.Request) -> str:
    source = await request.post() if request.method == "POST" else request.query
    return field(source, "plan", 60)


async def switch_confirm(request: web.Request) -> web.Response:
    try:
        view, plan, planned = await contracts.preview_switch(
            db_of(request),
            path_id(request),
            account_of(request),
            await _plan(request),
            today_of(request),
        )
    except NotFound as err:
        raise web.HTTPNotFound(reason=str(err)) from err
    return render(
        request,
        "switch_confirm.html",
        sub=view,
        plan=plan,
        switch=planned,
        fee=SWITCH_FEE.cents,
    )


async def switch(request: web.Request) -> web.Response:
    await contracts.switch_plan(
        db_of(request),
        path_id(request),
        account_of(request),
        await _plan(request),
        today_of(request),
        now=now_of(request),
        actor=actor_of(request),
    )
    return redirect("/subscription?done=switched")


async def cancel_confirm(request: web.Request) -> web.Response:
    today = today_of(request)
    view = await contracts.subscription(
        db_of(request), path_id(request), account_of(request), today
    )
    rule, ends_on = contracts.notice_terms(view, today)
    return render(
        request,
        "cancel_confirm.html",
        sub=view,
        rule=f"cancel.rule.{rule}",
        ends_on=ends_on,
        last_day=ends_on - timedelta(days=1),
    )


async def cancel(request: web.Request) -> web.Response:
    await contracts.give_notice_now(
        db_of(request),
        path_id(request),
        account_of(request),
        today_of(request),
        now=now_of(request),
        actor=actor_of(request),
    )
    return redirect("/subscription?done=cancelled")


def setup(app: web.Application) -> None:
    app.router.add_get("/subscription", subscription_page)
    app.router.add_get("/subscription/{id}/switch", switch_confirm)
    app.router.add_post("/subscription/{id}/switch", switch)
    app.router.add_get("/subscription/{id}/cancel", cancel_confirm)
    app.router.add_post("/subscription/{id}/cancel", cancel)
