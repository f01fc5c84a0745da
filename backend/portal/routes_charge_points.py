"""Charge points: guest usage and its (capped) tariff, installation orders with inspection
reports, the prepaid balance (top-ups: routes_top_ups.py), and a lease driver's bank account."""

from __future__ import annotations

from aiohttp import web

from ..store import AccountKind, Invalid
from .ctx import account_of, actor_of, now_of, path_id, store_of
from .forms import FormError, field, tariff_part
from .middleware import redirect
from .render import render


async def charge_points(request: web.Request) -> web.Response:
    account_id = account_of(request)
    store = store_of(request)
    account = await store.accounts.get_account(account_id)
    points = await store.sites.list_charge_points(account_id, limit=500)
    tariffs = {t.id: t for t in await store.sites.list_tariffs(account_id, limit=500)}
    return render(
        request,
        "charge_points.html",
        account=account,
        points=points,
        tariffs=tariffs,
        maximum=store.sites.guest_maximum,
        installations=await store.installations.list(account_id),
        lease=account.kind is AccountKind.LEASE_DRIVER,
        done=request.query.get("done", ""),
        error=request.query.get("error", ""),
    )


async def set_guest_usage(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        await store_of(request).sites.set_guest_tariff(
            path_id(request),
            account_of(request),
            guest_usage=form.get("guest_usage") == "1",
            start_cents=tariff_part(form, "start"),
            per_kwh_cents=tariff_part(form, "per_kwh"),
            per_minute_cents=tariff_part(form, "per_minute"),
            now=now_of(request),
            actor=actor_of(request),
        )
    except Invalid as err:
        raise FormError("guest.over_maximum") from err
    return redirect("/charge-points?done=guest")


async def bank_account(request: web.Request) -> web.Response:
    form = await request.post()
    account_id = account_of(request)
    try:
        await store_of(request).accounts.set_iban(
            account_id,
            field(form, "iban", 64),
            account_id,
            now=now_of(request),
            actor=actor_of(request),
        )
    except Invalid as err:
        raise FormError("iban.invalid", detail=str(err)) from err
    return redirect("/charge-points?done=iban")


def setup(app: web.Application) -> None:
    app.router.add_get("/charge-points", charge_points)
    app.router.add_post("/charge-points/{id}/guest", set_guest_usage)
    app.router.add_post("/bank-account", bank_account)
