"""Charge points: guest usage and its (capped) tariff, installation orders with inspection
reports, the prepaid balance (top-ups: routes_top_ups.py), and a lease driver's bank account."""

from __future__ import annotations

from aiohttp import web

from ..billing.errors import BillingError
from ..billing.guest_usage import validate_guest_tariff
from ..billing.money import Basis
from ..billing.sessions import SessionTariff
from ..store import AccountKind
from . import orders
from .ctx import account_of, actor_of, db_of, now_of, path_id, store_of
from .forms import FormError, field, tariff_part
from .keys import CONFIG
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
        maximum=request.app[CONFIG].guest_maximum,
        installations=await orders.installation_orders(db_of(request), account_id),
        lease=account.kind is AccountKind.LEASE_DRIVER,
        done=request.query.get("done", ""),
        error=request.query.get("error", ""),
    )


async def set_guest_usage(request: web.Request) -> web.Response:
    form = await request.post()
    account_id = account_of(request)
    store = store_of(request)
    point = await store.sites.get_charge_point(path_id(request), account_id)
    tariff = SessionTariff(
        tariff_part(form, "start"),
        tariff_part(form, "per_kwh"),
        tariff_part(form, "per_minute"),
        Basis.GROSS,
    )
    try:
        validate_guest_tariff(tariff, request.app[CONFIG].guest_maximum)
    except BillingError as err:
        raise FormError("guest.over_maximum") from err
    now = now_of(request)
    created = await store.sites.create_tariff(
        account_id,
        f"Guests at {point.name}"[:100],
        now=now,
        start_cents=tariff.start_cents,
        per_kwh_cents=tariff.per_kwh_cents,
        per_minute_cents=tariff.per_minute_cents,
    )
    await store.sites.update_charge_point(
        point.id,
        account_id,
        now=now,
        actor=actor_of(request),
        guest_usage=form.get("guest_usage") == "1",
        tariff_id=created.id,
    )
    return redirect("/charge-points?done=guest")


async def bank_account(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        await orders.set_iban(
            db_of(request),
            account_of(request),
            field(form, "iban", 64),
            now=now_of(request),
            actor=actor_of(request),
        )
    except BillingError as err:
        raise FormError("iban.invalid", detail=str(err)) from err
    return redirect("/charge-points?done=iban")


def setup(app: web.Application) -> None:
    app.router.add_get("/charge-points", charge_points)
    app.router.add_post("/charge-points/{id}/guest", set_guest_usage)
    app.router.add_post("/bank-account", bank_account)
