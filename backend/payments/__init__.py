"""Prepaid top-ups through a payment provider (Mollie's payments API v2 shape; issue 19.5).

provider.py  the provider's HTTP API (create / get a payment), read defensively
ledger.py    the payments table and the one place a balance is credited (once, on 'paid')
service.py   start a top-up; a webhook or a page view fetches the status from the provider
routes.py    POST /api/v1/payments/webhook, /api/v1/accounts/{id}/top-ups
"""

from __future__ import annotations

from aiohttp import web

from .ledger import Payment
from .provider import PaymentProvider, ProviderError, ProviderSettings, ProviderUnavailable
from .service import MAX_TOP_UP_CENTS, MIN_TOP_UP_CENTS, Payments

PAYMENTS = web.AppKey("payments", Payments)
WEBHOOK_PATH = "/api/v1/payments/webhook"

__all__ = [
    "MAX_TOP_UP_CENTS",
    "MIN_TOP_UP_CENTS",
    "PAYMENTS",
    "WEBHOOK_PATH",
    "Payment",
    "PaymentProvider",
    "Payments",
    "ProviderError",
    "ProviderSettings",
    "ProviderUnavailable",
]
