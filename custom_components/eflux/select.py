"""Select per charger: the charging mode (off, fast, static, dynamic, PV, PV + minimum, smart)."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .core.runtime import Mode
from .data import EfluxConfigEntry
from .entity import RestoredSetting, async_add_charger_entities, run_command

PARALLEL_UPDATES = 1

MODE = SelectEntityDescription(
    key="charging_mode",
    translation_key="charging_mode",
    options=[mode.value for mode in Mode],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EfluxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_charger_entities(entry, async_add_entities, EfluxModeSelect, (MODE,))


class EfluxModeSelect(RestoredSetting, SelectEntity):
    @property
    def current_option(self) -> str:
        """The mode in force (the site's default when the user chose none)."""
        return self.charger.mode

    def setting_text(self) -> str | None:
        return self.charger.mode_setting

    async def async_restore(self, state: str) -> None:
        if state != self.charger.mode:
            await self.async_select_option(state)

    async def async_select_option(self, option: str) -> None:
        await run_command(self.coordinator.site.set_mode(self.charger_id, option))
