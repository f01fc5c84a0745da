"""Roaming over OCPI 2.2.1: the platform as eMSP (CDRs in, our cards out as Tokens) and as
CPO (charge points open to guests as Locations and Tariffs, Tokens in, CDRs of guest sessions
out). See docs/roaming.md.

    mount_ocpi(app, store, OcpiSettings.parse("NL-EFX", "E-Flux", "https://cloud.example"))
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from aiohttp import web

from ..store import Store
from .client import OcpiClient
from .routes import ocpi_app
from .settings import VERSION, OcpiSettings
from .sync import sync_round

__all__ = ["VERSION", "OcpiClient", "OcpiSettings", "mount_ocpi", "sync_round"]
_LOGGER = logging.getLogger(__name__)


RoundListener = Callable[[Counter[str]], None]


def mount_ocpi(
    app: web.Application,
    store: Store,
    settings: OcpiSettings,
    clock: Callable[[], datetime],
    on_round: RoundListener | None = None,
) -> web.Application:
    """/ocpi/… on `app`; with a sync interval, a round with every party that often
    (`on_round` gets what each round did: tokens, cdrs, locations, tariffs, failed)."""
    from . import site_channel  # it imports the API, which imports this package

    client = OcpiClient()
    bell = site_channel.enable(app, client)  # the sites take commands through /api/v1/sync
    sub = ocpi_app(store, settings, client, clock, bell)
    app.add_subapp("/ocpi", sub)

    async def lifetime(_: web.Application) -> AsyncIterator[None]:
        task = None
        if settings.sync_interval_s > 0:
            task = asyncio.create_task(_loop(store, settings, client, clock, on_round))
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await client.close()

    app.cleanup_ctx.append(lifetime)
    return sub


async def _loop(
    store: Store,
    settings: OcpiSettings,
    client: OcpiClient,
    clock: Callable[[], datetime],
    on_round: RoundListener | None,
) -> None:
    while True:
        await asyncio.sleep(settings.sync_interval_s)
        try:
            done = await sync_round(store, settings, client, now=clock())
            if on_round is not None:
                on_round(done)
            if done:
                _LOGGER.info("OCPI round: %s", dict(done))
        except Exception:  # the loop outlives a bad round (a database outage, a bug)
            _LOGGER.exception("OCPI round failed")
