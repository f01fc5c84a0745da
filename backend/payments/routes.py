"""The provider's webhook (public: it carries only a payment id, which we look up at the
provider) and the API's top-ups of an account (start one; list them with their status)."""

from __future__ import annotations

import voluptuous as vol
from aiohttp import web

from ..api.auth import actor, scope
from ..api.errors import ApiError
from ..api.http import body, ok, path_id
from ..api.schemas import integer
from ..portal.publicurl import link_base
from . import PAYMENTS, WEBHOOK_PATH, Payments, ledger
from .service import MAX_TOP_UP_CENTS, MIN_TOP_UP_CENTS

TOP_UP = vol.Schema(
    {
        vol.Required("amount_cents"): vol.All(
            integer, vol.Range(min=MIN_TOP_UP_CENTS, max=MAX_TOP_UP_CENTS)
        )
    }
)


def payments_of(request: web.Request) -> Payments:
    found = request.config_dict.get(PAYMENTS)
    if found is None:
        raise ApiError(
            404,
            "not_found",
            "top-ups are not set up on this server (serve --payments-url / --payments-key)",
        )
    return found


async def webhook(request: web.Request) -> web.Response:
    """`id=tr_…` as a form (what Mollie sends). Anything else in the body is ignored: the
    status comes from the provider. An id we never made is answered 200 and changes nothing."""
    payments = payments_of(request)
    try:
        form = await request.post()
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "invalid", "the webhook body is not UTF-8 form data") from None
    provider_id = form.get("id")
    if not isinstance(provider_id, str):
        raise ApiError(400, "invalid", "the webhook needs a payment id (form field id)")
    await payments.webhook(provider_id)  # ProviderUnavailable → 503: the provider retries
    return ok({"received": True})


async def start_top_up(request: web.Request) -> web.Response:
    account_id = path_id(request)
    visible = scope(request)
    if visible is not None and visible != account_id:
        raise ApiError(404, "not_found", f"account {account_id} not found")
    payments = payments_of(request)
    data = await body(request, TOP_UP)
    base = link_base(request)
    payment = await payments.start_top_up(
        account_id,
        data["amount_cents"],
        return_url=lambda pid: f"{base}/portal/top-ups/{pid}",
        webhook_url=base + WEBHOOK_PATH,
        actor=actor(request),
    )
    return ok(payment, 201)


async def list_top_ups(request: web.Request) -> web.Response:
    account_id = path_id(request)
    visible = scope(request)
    if visible is not None and visible != account_id:
        raise ApiError(404, "not_found", f"account {account_id} not found")
    payments = payments_of(request)
    await payments.store.accounts.get_account(account_id)
    return ok({"items": await payments.list_fresh(account_id)})


async def get_top_up(request: web.Request) -> web.Response:
    payments = payments_of(request)
    payment = await ledger.get(payments.db, path_id(request), scope(request))
    return ok(await payments.refresh(payment))


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post(WEBHOOK_PATH, webhook)
    r.add_post("/api/v1/accounts/{id}/top-ups", start_top_up)
    r.add_get("/api/v1/accounts/{id}/top-ups", list_top_ups)
    r.add_get("/api/v1/top-ups/{id}", get_top_up)
