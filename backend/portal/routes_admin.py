"""Admin: accounts, cards (block/unblock), installation orders, the monthly run, the audit log.

The middleware answers 404 on /admin for anyone but an administrator."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from ..billing.calendar import Month
from ..billing.errors import BillingError
from ..invoicing import Invoicing, RunSummary
from ..services import installations
from ..store import CardStatus, Step, StepAction
from .ctx import actor_of, db_of, now_of, path_id, store_of, today_of
from .forms import FormError, field
from .middleware import redirect
from .render import render

LIST_LIMIT = 500


async def _admin(request: web.Request, month: Month, summary: RunSummary | None) -> web.Response:
    store = store_of(request)
    return render(
        request,
        "admin.html",
        accounts=await store.accounts.list_accounts(None, limit=LIST_LIMIT),
        cards=await store.cards.list_cards(None, limit=LIST_LIMIT),
        installations=await store.installations.list(None),
        month=str(month),
        summary=summary,
    )


async def admin_page(request: web.Request) -> web.Response:
    return await _admin(request, Month.of(today_of(request)).prev(), None)


async def card_status(request: web.Request) -> web.Response:
    form = await request.post()
    status = CardStatus.BLOCKED if form.get("block") == "1" else CardStatus.ACTIVE
    await store_of(request).cards.set_status(
        path_id(request), None, status, now=now_of(request), actor=actor_of(request)
    )
    return redirect("/admin")


async def invoicing(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        month = Month.parse(field(form, "month", 7))
    except BillingError as err:
        raise FormError("form.not_month", name="month") from err
    summary = await Invoicing(db_of(request)).run_month(month, now=now_of(request))
    return await _admin(request, month, summary)


def _day(form: dict[str, str], name: str) -> date | None:
    if not form.get(name):
        return None
    try:
        return date.fromisoformat(form[name])
    except ValueError as err:
        raise FormError("form.not_date", name=name) from err


async def installation_step(request: web.Request) -> web.Response:
    """Move an installation order one step (billing refuses a step out of order)."""
    raw = await request.post()
    form = {k: field(raw, k, 2000) for k in ("action", "on", "date", "text")}
    on = _day(form, "on")
    if on is None:
        raise FormError("form.not_date", name="on")
    try:
        action = StepAction(form["action"])
    except ValueError as err:
        raise FormError("form.unknown_action") from err
    await installations.step(
        store_of(request),
        path_id(request),
        Step(action, on, _day(form, "date"), form["text"]),
        now=now_of(request),
        actor=actor_of(request),
    )
    return redirect("/admin")


async def audit(request: web.Request) -> web.Response:
    entries = await store_of(request).audit.latest(LIST_LIMIT)
    return render(request, "audit.html", entries=entries)


def setup(app: web.Application) -> None:
    app.router.add_get("/admin", admin_page)
    app.router.add_post("/admin/cards/{id}/status", card_status)
    app.router.add_post("/admin/invoicing", invoicing)
    app.router.add_post("/admin/installations/{id}", installation_step)
    app.router.add_get("/admin/audit", audit)
