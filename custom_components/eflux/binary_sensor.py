"""Binary sensors per charger: car connected, charging, online, ready by departure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .core.runtime import ChargerSnapshot
from .data import EfluxConfigEntry
from .entity import EfluxChargerEntity, async_add_charger_entities

PARALLEL_UPDATES = 0

# OCPP statuses in which a car is plugged in (1.6 names; 2.0.1 says Occupied).
PLUGGED = frozenset(
    {"Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing", "Occupied"}
)


@dataclass(frozen=True, kw_only=True)
class ChargerBinaryDescription(BinarySensorEntityDescription):
    is_on_fn: Callable[[ChargerSnapshot], bool | None]


BINARY_SENSORS: tuple[ChargerBinaryDescription, ...] = (
    ChargerBinaryDescription(
        key="connected",
        translation_key="connected",
        device_class=BinarySensorDeviceClass.PLUG,
        is_on_fn=lambda c: None if c.status is None else c.status in PLUGGED,
    ),
    ChargerBinaryDescription(
        key="charging",
        device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
        is_on_fn=lambda c: None if c.status is None else c.status == "Charging",
    ),
    ChargerBinaryDescription(
        key="online",
        translation_key="online",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda c: c.online,
    ),
    ChargerBinaryDescription(
        key="ready_by_departure",
        translation_key="ready_by_departure",
        is_on_fn=lambda c: c.ready_by_departure,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EfluxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_charger_entities(entry, async_add_entities, EfluxBinarySensor, BINARY_SENSORS)


class EfluxBinarySensor(EfluxChargerEntity, BinarySensorEntity):
    entity_description: ChargerBinaryDescription

    @property
    def is_on(self) -> bool | None:
        return self.entity_description.is_on_fn(self.charger)
