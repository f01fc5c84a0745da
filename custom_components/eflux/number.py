"""Numbers per charger: the user's current cap and the target state of charge."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.number import NumberDeviceClass, NumberEntity, NumberEntityDescription
from homeassistant.const import PERCENTAGE, UnitOfElectricCurrent
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import MIN_CHARGING_AMPS
from .core.runtime import ChargerSnapshot, LocalSite
from .data import EfluxConfigEntry
from .entity import RestoredSetting, async_add_charger_entities, run_command

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class ChargerNumberDescription(NumberEntityDescription):
    value_fn: Callable[[ChargerSnapshot, LocalSite], float | None]
    set_fn: Callable[[LocalSite, str, float], Awaitable[None]]


def _max_current(charger: ChargerSnapshot, site: LocalSite) -> float:
    """The user's cap, or the charger's own maximum when the user set none."""
    if charger.max_current_a is not None:
        return charger.max_current_a
    return site.charger_max_current(charger.id)


NUMBERS: tuple[ChargerNumberDescription, ...] = (
    ChargerNumberDescription(
        key="max_current",
        translation_key="max_current",
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        native_min_value=MIN_CHARGING_AMPS,
        native_step=1,
        value_fn=_max_current,
        set_fn=lambda site, ident, value: site.set_max_current(ident, value),
    ),
    ChargerNumberDescription(
        key="target_soc",
        translation_key="target_soc",
        device_class=NumberDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        native_min_value=1,
        native_max_value=100,
        native_step=1,
        value_fn=lambda charger, _site: (
            charger.target_soc if charger.target_soc is not None else 100
        ),
        set_fn=lambda site, ident, value: site.set_target_soc(ident, value),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EfluxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_charger_entities(entry, async_add_entities, EfluxNumber, NUMBERS)


class EfluxNumber(RestoredSetting, NumberEntity):
    entity_description: ChargerNumberDescription

    @property
    def native_max_value(self) -> float:
        if self.entity_description.native_max_value is not None:
            return self.entity_description.native_max_value
        return self.coordinator.site.charger_max_current(self.charger_id)

    @property
    def native_value(self) -> float | None:
        return self.entity_description.value_fn(self.charger, self.coordinator.site)

    def setting_text(self) -> str | None:
        value = self.native_value
        return None if value is None else str(value)

    async def async_restore(self, state: str) -> None:
        if float(state) != self.native_value:
            await self.async_set_native_value(float(state))

    async def async_set_native_value(self, value: float) -> None:
        await run_command(
            self.entity_description.set_fn(self.coordinator.site, self.charger_id, value)
        )
