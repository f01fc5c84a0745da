"""Switches per charger: charging allowed (mode off or not) and available (OCPP availability)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .core.runtime import ChargerSnapshot, LocalSite, Mode
from .data import EfluxConfigEntry
from .entity import EfluxChargerEntity, async_add_charger_entities, run_command

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class ChargerSwitchDescription(SwitchEntityDescription):
    is_on_fn: Callable[[ChargerSnapshot], bool | None]
    set_fn: Callable[[LocalSite, ChargerSnapshot, bool], Awaitable[None]]


async def _allow(site: LocalSite, charger: ChargerSnapshot, on: bool) -> None:
    # On: back to the site's default mode (None), not to a mode guessed here.
    await site.set_mode(charger.id, None if on else Mode.OFF)


async def _available(site: LocalSite, charger: ChargerSnapshot, on: bool) -> None:
    await site.set_availability(charger.id, on)


SWITCHES: tuple[ChargerSwitchDescription, ...] = (
    ChargerSwitchDescription(
        key="charging_allowed",
        translation_key="charging_allowed",
        is_on_fn=lambda c: c.mode != Mode.OFF,
        set_fn=_allow,
    ),
    ChargerSwitchDescription(
        key="available",
        translation_key="available",
        entity_category=EntityCategory.CONFIG,
        is_on_fn=lambda c: None if c.status is None else c.status not in ("Unavailable", "Faulted"),
        set_fn=_available,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EfluxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_charger_entities(entry, async_add_entities, EfluxSwitch, SWITCHES)


class EfluxSwitch(EfluxChargerEntity, SwitchEntity):
    entity_description: ChargerSwitchDescription

    @property
    def is_on(self) -> bool | None:
        return self.entity_description.is_on_fn(self.charger)

    async def async_turn_on(self, **kwargs: Any) -> None:
        await run_command(self.entity_description.set_fn(self.coordinator.site, self.charger, True))

    async def async_turn_off(self, **kwargs: Any) -> None:
        await run_command(
            self.entity_description.set_fn(self.coordinator.site, self.charger, False)
        )
