"""Application keys of the portal sub-application."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import jinja2
from aiohttp import web

from ..store import Store
from .ratelimit import RateLimiter


@dataclass(frozen=True, slots=True)
class PortalConfig:
    outbox: Path  # password-reset e-mails are written here (dev "mail")
    session_lifetime: timedelta = timedelta(hours=12)
    reset_lifetime: timedelta = timedelta(hours=1)
    login_failures: int = 5  # per e-mail and per client address ...
    login_window: timedelta = timedelta(minutes=15)  # ... in this window


STORE = web.AppKey("portal_store", Store)
CLOCK: web.AppKey[Callable[[], datetime]] = web.AppKey("portal_clock")
CONFIG = web.AppKey("portal_config", PortalConfig)
TEMPLATES = web.AppKey("portal_templates", jinja2.Environment)
LIMITER = web.AppKey("portal_limiter", RateLimiter)
