"""The payment provider's HTTP API, in the shape of Mollie's payments API v2.

    POST {base}/v2/payments        {"amount": {"currency": "EUR", "value": "25.00"},
                                    "description", "redirectUrl", "webhookUrl", "metadata"}
    GET  {base}/v2/payments/{id}   → {"id": "tr_…", "status": "open" | "pending" | "authorized"
                                      | "paid" | "failed" | "canceled" | "expired",
                                      "amount": {…}, "paidAt"?, "_links": {"checkout": {"href"}}}

with `Authorization: Bearer <api key>`. Everything the provider answers is read defensively:
an unexpected shape is a `ProviderError`, a provider that cannot be reached (refused, timed
out, 5xx) is `ProviderUnavailable`; neither is ever taken as "paid".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import aiohttp

from .. import parse

STATUSES = frozenset({"open", "pending", "authorized", "paid", "failed", "canceled", "expired"})
FINAL = frozenset({"paid", "failed", "canceled", "expired"})
PAYMENT_ID = re.compile(r"tr_[A-Za-z0-9]{1,64}", re.ASCII)
_VALUE = re.compile(r"[0-9]{1,9}\.[0-9]{2}", re.ASCII)
TIMEOUT_S = 10.0


class ProviderError(Exception):
    """The provider answered, but not with what the contract says (or refused our request)."""


class ProviderUnavailable(ProviderError):
    """The provider cannot be reached now (connection refused, timeout, 5xx): retry later."""


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    base_url: str  # e.g. https://api.mollie.com (without /v2)
    api_key: str

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError("the payment provider's URL must start with http:// or https://")
        if not self.api_key or any(c.isspace() for c in self.api_key):
            raise ValueError("the payment provider's API key must be one word")


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    id: str
    status: str
    amount_cents: int
    currency: str
    checkout_url: str | None
    paid_at: datetime | None


def euro_value(cents: int) -> str:
    """Mollie's amount text: 2500 → '25.00'."""
    return f"{cents // 100}.{cents % 100:02d}"


def _cents(value: object) -> int:
    if not isinstance(value, str) or _VALUE.fullmatch(value) is None:
        raise ProviderError(f"the provider sent an amount that is not 'N.NN': {value!r:.40}")
    try:
        return int(Decimal(value) * 100)
    except InvalidOperation as err:  # pragma: no cover - the pattern admits only digits
        raise ProviderError("unreadable amount") from err


def read_payment(data: Any) -> ProviderPayment:
    """A payment object from the provider, checked field by field."""
    if not isinstance(data, dict):
        raise ProviderError("the provider's answer is not a JSON object")
    ident, status, amount = data.get("id"), data.get("status"), data.get("amount")
    if not isinstance(ident, str) or PAYMENT_ID.fullmatch(ident) is None:
        raise ProviderError("the provider's payment has no valid id")
    if status not in STATUSES:
        raise ProviderError(f"the provider's payment has an unknown status {status!r:.40}")
    if not isinstance(amount, dict) or not isinstance(amount.get("currency"), str):
        raise ProviderError("the provider's payment has no amount")
    links = data.get("_links")
    checkout = links.get("checkout") if isinstance(links, dict) else None
    href = checkout.get("href") if isinstance(checkout, dict) else None
    paid_at = None
    if data.get("paidAt") is not None:
        try:
            paid_at = parse.aware_time(data["paidAt"], "paidAt")
        except parse.ParseError as err:
            raise ProviderError(err.detail) from err
    return ProviderPayment(
        ident,
        str(status),
        _cents(amount.get("value")),
        amount["currency"],
        href if isinstance(href, str) and href.startswith(("http://", "https://")) else None,
        paid_at,
    )


class PaymentProvider:
    """A client of one provider account (base URL and API key from the settings)."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_S),
                headers={"Authorization": f"Bearer {self.settings.api_key}"},
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def create(
        self,
        cents: int,
        *,
        description: str,
        redirect_url: str,
        webhook_url: str,
        metadata: dict[str, Any],
    ) -> ProviderPayment:
        body = {
            "amount": {"currency": "EUR", "value": euro_value(cents)},
            "description": description,
            "redirectUrl": redirect_url,
            "webhookUrl": webhook_url,
            "metadata": metadata,
        }
        payment = await self._call("POST", "/v2/payments", body)
        if payment.amount_cents != cents or payment.currency != "EUR":
            raise ProviderError("the provider created a payment for another amount")
        if payment.checkout_url is None:
            raise ProviderError("the provider's new payment has no checkout link")
        return payment

    async def get(self, provider_id: str) -> ProviderPayment:
        if PAYMENT_ID.fullmatch(provider_id) is None:
            raise ProviderError("not a payment id")
        payment = await self._call("GET", f"/v2/payments/{provider_id}", None)
        if payment.id != provider_id:
            raise ProviderError("the provider answered with another payment")
        return payment

    async def _call(self, method: str, path: str, body: Any) -> ProviderPayment:
        url = self.settings.base_url.rstrip("/") + path
        try:
            async with self._http().request(method, url, json=body) as response:
                if response.status >= 500:
                    raise ProviderUnavailable(f"the payment provider answered {response.status}")
                if response.status >= 400:
                    raise ProviderError(f"the payment provider refused: {response.status}")
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            if isinstance(err, aiohttp.ClientResponseError | ValueError):
                raise ProviderError(f"the provider's answer is unreadable: {err}") from err
            raise ProviderUnavailable(f"the payment provider cannot be reached: {err}") from err
        return read_payment(data)
