"""A charger that drops while the central system waits for its answer: nothing dangles."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from pathlib import Path

import pytest

from custom_components.eflux.core.central import CentralSystem

from .support import RawCharger, boot_v16, central_config, eventually, running_central


@pytest.mark.asyncio(loop_scope="module")
async def test_drop_during_boot_configuration_leaves_no_unretrieved_error(
    central: CentralSystem, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="asyncio")
    async with RawCharger.connect(central.port, "DROPS-MID-CALL") as raw:
        await raw.call_ok("BootNotification", boot_v16())
        # The configuration after boot asks first; this charger never answers and leaves.
        assert (await raw.next_call_from_central())[2] == "GetConfiguration"
    await eventually(lambda: not central.charge_points()["DROPS-MID-CALL"].online)
    for _ in range(3):
        await asyncio.sleep(0)
        gc.collect()
    assert "never retrieved" not in caplog.text


async def test_stop_during_boot_configuration_leaves_no_unretrieved_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="asyncio")
    async with running_central(central_config(tmp_path)) as stopping:
        raw_context = RawCharger.connect(stopping.port, "STOPPED-MID-CALL")
        raw = await raw_context.__aenter__()
        await raw.call_ok("BootNotification", boot_v16())
        assert (await raw.next_call_from_central())[2] == "GetConfiguration"
    # The central system stopped (as on an HA entry reload) while it waited for the answer.
    with contextlib.suppress(Exception):
        await raw_context.__aexit__(None, None, None)
    for _ in range(3):
        await asyncio.sleep(0)
        gc.collect()
    assert "never retrieved" not in caplog.text
