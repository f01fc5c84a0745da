"""Admin: accounts, cards (block/unblock), installation orders, the monthly run, the audit log.

The middleware answers 404 on /admin for anyone but an administrator."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from ..billing import installation
from ..billing.calendar import Month
from ..billing.errors import BillingError
from ..invoicing import Invoicing, RunSummary
from ..store import CardStatus
from . import orders
from .ctx import actor_of, db_of, now_of, path_id, store_of, today_of
from .forms import FormError, field
from .middleware import redirect
from .queries import latest_audit
from .render import render

LIST_LIMIT = 500


async def _admin(request: web.Request, month: Month, summary: RunSummary | None) -> web.Response:
    store = store_of(request)
    return render(
        request,
        "admin.html",
        accounts=await store.accounts.list_accounts(None, limit=LIST_LIMIT),
        cards=await store.cards.list_cards(None, limit=LIST_LIMIT),
        installations=await orders.installation_orders(db_of(request), None),
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


def _day(form: dict[str, str], name: str) -> date:
    try:
        return date.fromisoformat(form.get(name, ""))
    except ValueError as err:
        raise FormError("form.not_date", name=name) from err


async def installation_step(request: web.Request) -> web.Response:
    """Move an installation order one step (billing refuses a step out of order)."""
    raw = await request.post()
    form = {k: field(raw, k, 2000) for k in ("action", "on", "date", "text")}
    stored = next(
        (
            o
            for o in await orders.installation_orders(db_of(request), None)
            if o.id == path_id(request)
        ),
        None,
    )
    if stored is None:
        raise web.HTTPNotFound()
    on, order, action = _day(form, "on"), stored.order, form["action"]
    if action == "schedule":
        order = installation.schedule_installation(order, on, _day(form, "date"))
    elif action == "installed":
        order = installation.record_installation(order, on, form["text"])
    elif action == "inspection":
        order = installation.schedule_inspection(order, on, _day(form, "date"))
    elif action == "approve":
        order = await _approve(request, stored, on, form["text"])
    elif action == "reject":
        order = installation.reject(order, on, tuple(form["text"].splitlines()))
    else:
        raise FormError("form.unknown_action")
    await orders.save_installation_order(
        db_of(request), stored, order, now=now_of(request), actor=actor_of(request)
    )
    return redirect("/admin")


async def _approve(
    request: web.Request, stored: orders.StoredOrder, on: date, ocpp_id: str
) -> installation.InstallationOrder:
    """Approved: the charge point is added to the customer's account (DESIGN §4)."""
    installation.approve(stored.order, on, ocpp_id)  # refused out of order: nothing created
    point = await store_of(request).sites.create_charge_point(
        stored.account_id, ocpp_id.strip()[:64], now=now_of(request), name=ocpp_id.strip()[:64]
    )
    return installation.approve(stored.order, on, str(point.id))


async def audit(request: web.Request) -> web.Response:
    return render(request, "audit.html", entries=await latest_audit(db_of(request), LIST_LIMIT))


def setup(app: web.Application) -> None:
    app.router.add_get("/admin", admin_page)
    app.router.add_post("/admin/cards/{id}/status", card_status)
    app.router.add_post("/admin/invoicing", invoicing)
    app.router.add_post("/admin/installations/{id}", installation_step)
    app.router.add_get("/admin/audit", audit)
