"""A local payment provider speaking the part of Mollie's payments API v2 the back end uses.

    POST /v2/payments              create (Bearer <api key>); 201 with _links.checkout.href
    GET  /v2/payments/{id}         the payment as it is now
    GET  /checkout/{id}            the customer's page: pay, fail, cancel or let it expire
    POST /checkout/{id}/{outcome}  settle it, call the webhook (form `id=`, as Mollie does,
                                   retried a few times), send the browser to redirectUrl

A test/demo part, not product code: payments live in memory. `outcome()` and `webhook_calls`
let tests drive and observe it without a browser; `fail_next_webhooks` and `down` make it
misbehave the ways a real provider can.
"""

from __future__ import annotations

import asyncio
import html
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web

OUTCOMES = {"pay": "paid", "fail": "failed", "cancel": "canceled", "expire": "expired"}
EXPIRES_AFTER = timedelta(minutes=15)  # Mollie's default for most methods


@dataclass
class SimPayment:
    id: str
    amount: dict[str, str]
    description: str
    redirect_url: str
    webhook_url: str | None
    metadata: Any
    created_at: datetime
    status: str = "open"
    paid_at: datetime | None = None

    def as_json(self, base: str, expires_after: timedelta = EXPIRES_AFTER) -> dict[str, Any]:
        data: dict[str, Any] = {
            "resource": "payment",
            "id": self.id,
            "mode": "test",
            "status": self.status,
            "amount": self.amount,
            "description": self.description,
            "redirectUrl": self.redirect_url,
            "webhookUrl": self.webhook_url,
            "metadata": self.metadata,
            "createdAt": _iso(self.created_at),
            "expiresAt": _iso(self.created_at + expires_after),
            "_links": {
                "self": {"href": f"{base}/v2/payments/{self.id}", "type": "application/hal+json"}
            },
        }
        if self.paid_at is not None:
            data["paidAt"] = _iso(self.paid_at)
        if self.status == "open":
            data["_links"]["checkout"] = {"href": f"{base}/checkout/{self.id}", "type": "text/html"}
        return data


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


@dataclass
class SimProvider:
    api_key: str
    payments: dict[str, SimPayment] = field(default_factory=dict)
    webhook_calls: list[tuple[str, int | str]] = field(default_factory=list)
    fetches: list[str] = field(default_factory=list)  # GET /v2/payments/{id}, in order
    fail_next_webhooks: int = 0  # the next N webhook calls are not sent (a lost webhook)
    down: bool = False  # every API call answers 503
    webhook_attempts: int = 3
    base_url: str = ""
    expires_after: timedelta = EXPIRES_AFTER  # an open payment left alone expires (webhook)
    _timers: set[asyncio.Task[None]] = field(default_factory=set)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._gate])
        app.on_cleanup.append(self._stop_timers)  # type: ignore[arg-type]  # aiosignal typing
        app.router.add_post("/v2/payments", self.create)
        app.router.add_get("/v2/payments/{id}", self.get)
        app.router.add_get("/checkout/{id}", self.checkout_page)
        app.router.add_post("/checkout/{id}/{outcome}", self.checkout)
        return app

    async def _stop_timers(self, _: web.Application) -> None:
        for timer in list(self._timers):
            timer.cancel()

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not self.base_url:
            self.base_url = f"{request.scheme}://{request.host}"
        if request.path.startswith("/v2/"):
            if self.down:
                return _error(503, "Service Unavailable", "the simulated provider is down")
            if request.headers.get("Authorization") != f"Bearer {self.api_key}":
                return _error(401, "Unauthorized Request", "Missing or invalid API key")
        response: web.StreamResponse = await handler(request)
        return response

    async def create(self, request: web.Request) -> web.Response:
        try:
            data = await request.json()
            amount = data["amount"]
            value, currency = str(amount["value"]), str(amount["currency"])
            redirect = str(data["redirectUrl"])
        except (ValueError, KeyError, TypeError):
            return _error(422, "Unprocessable Entity", "amount and redirectUrl are required")
        payment = SimPayment(
            f"tr_{secrets.token_hex(5)}",
            {"value": value, "currency": currency},
            str(data.get("description", "")),
            redirect,
            data.get("webhookUrl"),
            data.get("metadata"),
            datetime.now(UTC),
        )
        self.payments[payment.id] = payment
        timer = asyncio.create_task(self._expire_later(payment.id))
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)
        return web.json_response(payment.as_json(self.base_url, self.expires_after), status=201)

    async def _expire_later(self, payment_id: str) -> None:
        await asyncio.sleep(self.expires_after.total_seconds())
        await self.outcome(payment_id, "expired")  # no-op once it was paid, failed, ...

    async def get(self, request: web.Request) -> web.Response:
        self.fetches.append(request.match_info["id"])
        payment = self.payments.get(request.match_info["id"])
        if payment is None:
            return _error(404, "Not Found", "No payment exists with token")
        return web.json_response(payment.as_json(self.base_url, self.expires_after))

    async def checkout_page(self, request: web.Request) -> web.Response:
        payment = self.payments.get(request.match_info["id"])
        if payment is None:
            raise web.HTTPNotFound()
        buttons = (
            "".join(
                f'<form method="post" action="/checkout/{payment.id}/{o}">'
                f'<button id="{o}" type="submit">{o}</button></form>'
                for o in OUTCOMES
            )
            if payment.status == "open"
            else f"<p>This payment is {payment.status}.</p>"
        )
        page = (
            f"<!doctype html><title>Test payment</title><h1>Test payment</h1>"
            f"<p>{html.escape(payment.description)}: EUR {html.escape(payment.amount['value'])}"
            f"</p>{buttons}"
        )
        return web.Response(text=page, content_type="text/html")

    async def checkout(self, request: web.Request) -> web.Response:
        payment = self.payments.get(request.match_info["id"])
        outcome = OUTCOMES.get(request.match_info["outcome"])
        if payment is None or outcome is None:
            raise web.HTTPNotFound()
        await self.outcome(payment.id, outcome)
        raise web.HTTPSeeOther(payment.redirect_url)

    async def outcome(self, payment_id: str, status: str) -> None:
        """Settle an open payment as `status` and call its webhook (as the checkout does)."""
        payment = self.payments[payment_id]
        if payment.status != "open":
            return
        payment.status = status
        if status == "paid":
            payment.paid_at = datetime.now(UTC)
        await self.call_webhook(payment_id)

    async def call_webhook(self, payment_id: str) -> None:
        """POST `id=<payment id>` to the payment's webhookUrl, retried while it is not 2xx."""
        payment = self.payments[payment_id]
        if payment.webhook_url is None:
            return
        if self.fail_next_webhooks > 0:
            self.fail_next_webhooks -= 1
            self.webhook_calls.append((payment_id, "lost"))
            return
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            for attempt in range(self.webhook_attempts):
                try:
                    async with http.post(payment.webhook_url, data={"id": payment_id}) as r:
                        self.webhook_calls.append((payment_id, r.status))
                        if r.status < 300:
                            return
                except aiohttp.ClientError as err:
                    self.webhook_calls.append((payment_id, type(err).__name__))
                await asyncio.sleep(0.05 * (attempt + 1))


def _error(status: int, title: str, detail: str) -> web.Response:
    return web.json_response(
        {"status": status, "title": title, "detail": detail},
        status=status,
        content_type="application/hal+json",
    )
