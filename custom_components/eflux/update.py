"""Firmware update per charge point, through the central system (`LocalSite.update_firmware`:
a one-time URL on our own OCPP port, UpdateFirmware, the charger's status reports).

The chargers' makers publish firmware files, not a feed: the user puts a file in
`<config>/eflux/firmware/<model>/`, named after the version the charger reports once it runs
it (`6.5.0.bin`); the newest file there is the latest version of every charger of that model
(the model as its boot message names it). The folder is read in the executor, every
SCAN_INTERVAL and after an install.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from awesomeversion import AwesomeVersion
from homeassistant.components.update import (
    UpdateDeviceClass,
    UpdateEntity,
    UpdateEntityDescription,
    UpdateEntityFeature,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .data import EfluxConfigEntry
from .entity import EfluxChargerEntity, async_add_charger_entities, run_command

PARALLEL_UPDATES = 1
SCAN_INTERVAL = timedelta(minutes=15)
FIRMWARE_DIR = "firmware"
# The charger's FirmwareStatus values after which nothing more happens for this request.
DONE = frozenset(
    {
        "Installed",
        "DownloadFailed",
        "InstallationFailed",
        "InstallVerificationFailed",
        "InvalidSignature",
        "SignatureError",
        "InvalidCertificate",
        "RevokedCertificate",
        "Idle",
    }
)

FIRMWARE = UpdateEntityDescription(
    key="firmware",
    device_class=UpdateDeviceClass.FIRMWARE,
    entity_category=EntityCategory.CONFIG,
)


def newest_file(folder: Path) -> Path | None:
    """The file named after the highest version in `folder` (executor)."""
    if not folder.is_dir():
        return None
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    return max(files, key=lambda p: AwesomeVersion(p.stem), default=None)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EfluxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_charger_entities(entry, async_add_entities, EfluxFirmwareUpdate, (FIRMWARE,))


class EfluxFirmwareUpdate(EfluxChargerEntity, UpdateEntity):
    """The charge point's firmware: installed (from its boot message) and the newest file."""

    _attr_should_poll = True  # the folder is read every SCAN_INTERVAL; the rest is pushed
    _attr_supported_features = UpdateEntityFeature.INSTALL | UpdateEntityFeature.PROGRESS
    _file: Path | None = None

    def _folder(self) -> Path | None:
        model = self.charger.model
        if not model or "/" in model or model.startswith("."):
            return None
        return Path(self.hass.config.path(DOMAIN, FIRMWARE_DIR, model))

    async def async_update(self) -> None:
        folder = self._folder()
        self._file = None if folder is None else (
            await self.hass.async_add_executor_job(newest_file, folder)
        )  # fmt: skip

    @property
    def installed_version(self) -> str | None:
        return self.charger.firmware

    @property
    def latest_version(self) -> str | None:
        return self._file.stem if self._file is not None else self.charger.firmware

    @property
    def in_progress(self) -> bool:
        state = self.coordinator.site.charge_points().get(self.charger.charge_point_id)
        update = state.firmware_update if state is not None else None
        return update is not None and update.status not in DONE

    async def async_install(self, version: str | None, backup: bool, **kwargs: Any) -> None:
        if self._file is None or (version is not None and version != self._file.stem):
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="no_firmware_file",
                translation_placeholders={
                    "version": str(version or ""),
                    "model": self.charger.model or "",
                },
            )
        await run_command(self.coordinator.site.update_firmware(self.charger_id, self._file))
        self.async_write_ha_state()
