"""Helpers for HA tests that wait on real chargers (no sleeps with a fixed length)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from homeassistant.core import HomeAssistant


async def settle(hass: HomeAssistant) -> None:
    """Let call_soon-scheduled snapshot pushes and their state writes run."""
    for _ in range(3):
        await asyncio.sleep(0)
        await hass.async_block_till_done()


async def until(hass: HomeAssistant, predicate: Callable[[], bool], wait_s: float = 10.0) -> None:
    """Wait until `predicate()` holds, letting HA and the sockets run; TimeoutError otherwise."""
    async with asyncio.timeout(wait_s):
        while not predicate():
            await asyncio.sleep(0.01)
            await hass.async_block_till_done()
