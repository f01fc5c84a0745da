"""Application keys of the portal sub-application."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import jinja2
from aiohttp import web

from ..billing.money import Basis
from ..billing.sessions import SessionTariff
from ..store import Store
from .ratelimit import RateLimiter

# The platform's cap on what an owner may ask guests (art. 28.3), incl. VAT.
DEFAULT_GUEST_MAXIMUM = SessionTariff(
    start_cents=Decimal(100), per_kwh_cents=Decimal(75), per_minute_cents=Decimal(10),
    basis=Basis.GROSS,
)


@dataclass(frozen=True, slots=True)
class PortalConfig:
    outbox: Path  # password-reset e-mails are written here (dev "mail")
    session_lifetime: timedelta = timedelta(hours=12)
    reset_lifetime: timedelta = timedelta(hours=1)
    guest_maximum: SessionTariff = field(default=DEFAULT_GUEST_MAXIMUM)
    login_failures: int = 5  # per e-mail and per client address ...
    login_window: timedelta = timedelta(minutes=15)  # ... in this window


STORE = web.AppKey("portal_store", Store)
CLOCK: web.AppKey[Callable[[], datetime]] = web.AppKey("portal_clock")
CONFIG = web.AppKey("portal_config", PortalConfig)
TEMPLATES = web.AppKey("portal_templates", jinja2.Environment)
LIMITER = web.AppKey("portal_limiter", RateLimiter)
