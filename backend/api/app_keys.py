"""Application keys shared by the middlewares and the routes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from ..store import Store

STORE = web.AppKey("store", Store)
CLOCK: web.AppKey[Callable[[], datetime]] = web.AppKey("clock")
