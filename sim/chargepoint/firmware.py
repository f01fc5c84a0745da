"""A firmware update as a charger does it: download the file from the URL the central system
gave, report each step, install, reboot into the new version.

The new version is "sim-" and the first 12 hex digits of the file's SHA-256, so a test can
tell that exactly the offered file arrived.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import aiohttp

if TYPE_CHECKING:
    from .core import SimChargePoint

_LOGGER = logging.getLogger(__name__)
Report = Callable[[str], Awaitable[None]]


def version_of(data: bytes) -> str:
    return f"sim-{hashlib.sha256(data).hexdigest()[:12]}"


async def install(sim: SimChargePoint, location: str, report: Report, *, signed: bool) -> None:
    """Downloading, Downloaded (SignatureVerified), Installing, Installed; then a reboot."""
    if sim.firmware_gate is not None:  # a test holding the download back
        await sim.firmware_gate.wait()
    await report("Downloading")
    try:
        async with (
            aiohttp.ClientSession() as client,
            client.get(location, timeout=aiohttp.ClientTimeout(total=30)) as response,
        ):
            if response.status != 200:
                raise aiohttp.ClientError(f"HTTP {response.status}")
            data = await response.read()
    except (aiohttp.ClientError, TimeoutError) as err:
        _LOGGER.info("%s: firmware download failed: %r", sim.id, err)
        sim.firmware_downloads.append(None)
        await report("DownloadFailed")
        return
    sim.firmware_downloads.append(data)
    await report("Downloaded")
    if signed:
        await report("SignatureVerified")
    await report("Installing")
    sim.firmware = version_of(data)
    await report("Installed")
    sim.reboot_pending = True  # boots with the new version on the next connection
    with contextlib.suppress(Exception):
        await sim.drop_connection()
