"""Selects per charger: the charging mode (off, fast, static, dynamic, PV, PV + minimum, smart),
and for a charger that can switch phases, its phases (auto, 1, 3)."""

from __future__ import annotations

from collections.abc import Iterable

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


PHASES = SelectEntityDescription(key="phases", translation_key="phases", options=["auto", "1", "3"])


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EfluxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_charger_entities(entry, async_add_entities, EfluxModeSelect, (MODE,))

    def switchable(entities: Iterable[EfluxPhaseSelect]) -> None:
        chargers = entry.runtime_data.coordinator.data.chargers
        async_add_entities(
            [e for e in entities if (c := chargers.get(e.charger_id)) and c.phase_mode]
        )

    async_add_charger_entities(entry, switchable, EfluxPhaseSelect, (PHASES,))


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


class EfluxPhaseSelect(RestoredSetting, SelectEntity):
    """1p/3p: auto (by the room there is, with hysteresis), or fixed at one or three."""

    @property
    def current_option(self) -> str | None:
        return self.charger.phase_mode

    def setting_text(self) -> str | None:
        return self.charger.phase_mode

    async def async_restore(self, state: str) -> None:
        if state != self.charger.phase_mode and state in ("auto", "1", "3"):
            await self.async_select_option(state)

    async def async_select_option(self, option: str) -> None:
        await run_command(self.coordinator.site.set_phase_mode(self.charger_id, option))
