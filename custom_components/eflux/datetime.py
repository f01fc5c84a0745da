"""Datetime per charger: the departure the planner works towards."""

from __future__ import annotations

from datetime import datetime

from homeassistant.components.datetime import DateTimeEntity, DateTimeEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .core.domain import DepartureRequest
from .data import EfluxConfigEntry
from .entity import RestoredSetting, async_add_charger_entities, future_departure, run_command

PARALLEL_UPDATES = 1

DEPARTURE = DateTimeEntityDescription(key="departure", translation_key="departure")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EfluxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_charger_entities(entry, async_add_entities, EfluxDeparture, (DEPARTURE,))


class EfluxDeparture(RestoredSetting, DateTimeEntity):
    @property
    def native_value(self) -> datetime | None:
        return self.charger.departure_at

    def setting_text(self) -> str | None:
        departure = self.charger.departure_at
        return None if departure is None else departure.isoformat()

    async def async_restore(self, state: str) -> None:
        departure = dt_util.parse_datetime(state)
        if departure is not None and departure > dt_util.utcnow():  # a past one is done
            await self.async_set_value(departure)

    async def async_set_value(self, value: datetime) -> None:
        charger = self.charger
        request = DepartureRequest(
            charge_point_id=charger.charge_point_id,
            connector_id=charger.connector_id,
            departure_at=future_departure(value),
            target_soc=charger.target_soc if charger.target_soc is not None else 100.0,
        )
        await run_command(self.coordinator.site.set_departure(request))
