"""Application keys of the portal sub-application."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import jinja2
from aiohttp import web

from ..billing.guest_usage import PLATFORM_GUEST_MAXIMUM
from ..billing.sessions import SessionTariff
from ..store import Store
from .ratelimit import RateLimiter

DEFAULT_GUEST_MAXIMUM = PLATFORM_GUEST_MAXIMUM  # art. 28.3; the store enforces it too


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
