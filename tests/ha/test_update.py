"""Firmware update per charge point: the newest file in <config>/eflux/firmware/<model>/ is the
latest version; installing serves it to the charger through the central system (the sim
downloads it, installs and reboots into it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.eflux.const import DOMAIN
from sim.chargepoint.firmware import version_of

from .conftest import SimFactory
from .helpers import until

ENTITY = "update.cp_1_firmware"
IMAGE = b"\x7fFIRMWARE" + bytes(range(256)) * 64


async def _refresh(hass: HomeAssistant) -> None:
    await hass.services.async_call(
        "homeassistant", "update_entity", {"entity_id": ENTITY}, blocking=True
    )


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_firmware_file_is_offered_and_installed(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    make_sim: SimFactory,
    config_dir: Path,
    version: str,
) -> None:
    assert await async_setup_component(hass, "homeassistant", {})
    sim = await make_sim("CP-1", version, model="Eve Single Pro", firmware="6.4.0")
    await until(hass, lambda: hass.states.get(ENTITY).state == "off")  # nothing newer
    assert hass.states.get(ENTITY).attributes["installed_version"] == "6.4.0"

    folder = config_dir / DOMAIN / "firmware" / "Eve Single Pro"
    await hass.async_add_executor_job(lambda: folder.mkdir(parents=True))
    for name, data in (("6.4.9.bin", b"old"), ("6.10.1.bin", IMAGE), ("6.5.0.bin", b"mid")):
        await hass.async_add_executor_job((folder / name).write_bytes, data)
    await _refresh(hass)
    state = hass.states.get(ENTITY)
    assert state.state == "on"
    assert state.attributes["latest_version"] == "6.10.1"  # a version order, not text

    with pytest.raises(HomeAssistantError):  # a version without a file
        await hass.services.async_call(
            "update", "install", {"entity_id": ENTITY, "version": "7.0"}, blocking=True
        )
    await hass.services.async_call("update", "install", {"entity_id": ENTITY}, blocking=True)
    await sim.wait_for(lambda: sim.firmware_downloads == [IMAGE])
    # It reboots into the new firmware (offline for a moment: unavailable), then reports it.
    await until(
        hass,
        lambda: hass.states.get(ENTITY).attributes.get("installed_version") == version_of(IMAGE),
    )
    assert hass.states.get(ENTITY).attributes["in_progress"] is False
