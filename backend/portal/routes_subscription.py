"""Subscription: plan, minimum-term end, last day for notice; switch plan (fee shown first);
cancel, with the rule that applies in plain words. Dates and refusals come from backend.billing."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from ..billing.contracts import end_after_notice
from ..billing.plans import SWITCH_FEE, PlanKind
from ..billing.switches import request_switch
from ..invoicing.switches import load_switches, record_plan_switch
from . import contracts
from .ctx import account_of, actor_of, db_of, now_of, path_id, today_of
from .forms import field
from .middleware import redirect
from .render import render


async def subscription_page(request: web.Request) -> web.Response:
    today = today_of(request)
    views = await contracts.subscriptions(db_of(request), account_of(request), today)
    plans = await contracts.load_plans(db_of(request))
    switches = await load_switches(db_of(request), plans)
    pending = {s.contract_id: s for s in switches if s.effective_on > today}
    return render(
        request,
        "subscription.html",
        subs=views,
        plans=plans,
        pending=pending,
        today=today,
        fee=SWITCH_FEE.cents,
        done=request.query.get("done", ""),
    )


async def _switch_plan(request: web.Request) -> tuple[contracts.SubscriptionView, str]:
    view = await contracts.subscription(
        db_of(request), path_id(request), account_of(request), today_of(request)
    )
    source = await request.post() if request.method == "POST" else request.query
    return view, field(source, "plan", 60)


async def switch_confirm(request: web.Request) -> web.Response:
    view, code = await _switch_plan(request)
    plans = await contracts.load_plans(db_of(request))
    if code not in plans:
        raise web.HTTPNotFound(reason="no such plan")
    switches = await load_switches(db_of(request), plans)
    # The domain validates now, so the customer sees a refusal before confirming anything.
    planned = request_switch(view.contract, switches, plans[code], today_of(request))
    return render(
        request,
        "switch_confirm.html",
        sub=view,
        plan=plans[code],
        switch=planned,
        fee=SWITCH_FEE.cents,
    )


async def switch(request: web.Request) -> web.Response:
    view, code = await _switch_plan(request)
    await record_plan_switch(
        db_of(request),
        view.id,
        code,
        today_of(request),
        account_of(request),
        now=now_of(request),
        actor=actor_of(request),
    )
    return redirect("/subscription?done=switched")


async def cancel_confirm(request: web.Request) -> web.Response:
    today = today_of(request)
    view = await contracts.subscription(
        db_of(request), path_id(request), account_of(request), today
    )
    contract = view.contract
    ends_on = end_after_notice(contract, today)
    if contract.plan.kind is PlanKind.PREPAID:
        rule = "cancel.rule.prepaid"
    elif view.notice_deadline is not None and today <= view.notice_deadline:
        rule = "cancel.rule.in_time"
    else:
        rule = "cancel.rule.late"
    return render(
        request,
        "cancel_confirm.html",
        sub=view,
        rule=rule,
        ends_on=ends_on,
        last_day=ends_on - timedelta(days=1),
    )


async def cancel(request: web.Request) -> web.Response:
    today = today_of(request)
    view = await contracts.subscription(
        db_of(request), path_id(request), account_of(request), today
    )
    await contracts.cancel(
        db_of(request), view, today, now=now_of(request), actor=actor_of(request)
    )
    return redirect("/subscription?done=cancelled")


def setup(app: web.Application) -> None:
    app.router.add_get("/subscription", subscription_page)
    app.router.add_get("/subscription/{id}/switch", switch_confirm)
    app.router.add_post("/subscription/{id}/switch", switch)
    app.router.add_get("/subscription/{id}/cancel", cancel_confirm)
    app.router.add_post("/subscription/{id}/cancel", cancel)
