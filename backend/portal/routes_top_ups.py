"""Prepaid top-ups through the payment provider: start one (→ its page with the provider's
checkout link), the page the provider sends the customer back to, and the list of top-ups with
their status (pending, paid, failed, canceled, expired). Each page fetches open payments' status
from the provider; the balance is credited only by backend.payments on a fetched 'paid'."""

from __future__ import annotations

import logging

from aiohttp import web

from ..payments import (
    MAX_TOP_UP_CENTS,
    MIN_TOP_UP_CENTS,
    PAYMENTS,
    WEBHOOK_PATH,
    Payment,
    Payments,
    ProviderError,
)
from ..payments import ledger as payment_ledger
from .ctx import account_of, actor_of, path_id, store_of
from .forms import FormError, amount
from .middleware import PREFIX, redirect
from .publicurl import link_base
from .render import render

_LOGGER = logging.getLogger(__name__)


def _payments(request: web.Request) -> Payments | None:
    return request.config_dict.get(PAYMENTS)


def _unavailable(request: web.Request, key: str) -> web.Response:
    response = render(request, "error.html", 503, message_key=key)
    response.headers["Retry-After"] = "30"
    return response


async def start(request: web.Request) -> web.Response:
    form = await request.post()
    cents = amount(form, "amount")
    if not MIN_TOP_UP_CENTS <= cents <= MAX_TOP_UP_CENTS:
        raise FormError("prepaid.range", min=MIN_TOP_UP_CENTS // 100, max=MAX_TOP_UP_CENTS // 100)
    payments = _payments(request)
    if payments is None:
        return _unavailable(request, "prepaid.not_set_up")
    base = link_base(request)
    try:
        payment = await payments.start_top_up(
            account_of(request),
            cents,
            actor=actor_of(request),
            return_url=lambda pid: f"{base}{PREFIX}/top-ups/{pid}",
            webhook_url=base + WEBHOOK_PATH,
        )
    except ProviderError as err:  # down or answering nonsense: nothing was charged or stored
        _LOGGER.warning("top-up not started: %s", err)
        return _unavailable(request, "prepaid.provider_down")
    return redirect(f"/top-ups/{payment.id}")


async def _fresh(request: web.Request, payments: Payments, payment: Payment) -> Payment:
    try:
        return await payments.refresh(payment)
    except ProviderError as err:  # shown as last known; the webhook or a reload updates it
        _LOGGER.warning("payment %s not refreshed: %s", payment.id, err)
        return payment


async def top_up_page(request: web.Request) -> web.Response:
    payments = _payments(request)
    if payments is None:
        raise web.HTTPNotFound()
    payment = await payment_ledger.get(payments.db, path_id(request), account_of(request))
    return render(request, "top_up.html", payment=await _fresh(request, payments, payment))


async def top_ups(request: web.Request) -> web.Response:
    payments = _payments(request)
    account_id = account_of(request)
    items: list[Payment] = []
    if payments is not None:
        items = await payments.list_fresh(account_id)  # last known where the provider fails
    account = await store_of(request).accounts.get_account(account_id)
    return render(
        request, "top_ups.html", items=items, account=account, set_up=payments is not None
    )


def setup(app: web.Application) -> None:
    app.router.add_post("/prepaid/top-up", start)
    app.router.add_get("/top-ups", top_ups)
    app.router.add_get("/top-ups/{id}", top_up_page)
