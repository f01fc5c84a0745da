"""Sensors of the session history (`sessions.SessionHistory`): per charger the running
session's cost and the last session's energy, duration and cost; per card this month's
energy and cost (a card's sensors appear with its first session of the month)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfEnergy, UnitOfTime
from homeassistant.core import callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EfluxCoordinator
from .data import EfluxConfigEntry
from .entity import EfluxChargerEntity, EfluxSiteEntity, async_add_charger_entities
from .sessions import CardTotal, SessionData, SessionHistory

type Value = float | int | Decimal | None


@dataclass(frozen=True, kw_only=True)
class HistorySensorDescription(SensorEntityDescription):
    value_fn: Callable[[SessionData, str], Value]


def _last(charger_id: str, data: SessionData) -> Callable[..., Value]:
    return lambda fn: fn(data.last[charger_id]) if charger_id in data.last else None


HISTORY_SENSORS: tuple[HistorySensorDescription, ...] = (
    HistorySensorDescription(
        key="session_cost",
        translation_key="session_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        value_fn=lambda data, ident: data.running_cost.get(ident),
    ),
    HistorySensorDescription(
        key="last_session_energy",
        translation_key="last_session_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda data, ident: _last(ident, data)(lambda s: s.energy_kwh),
    ),
    HistorySensorDescription(
        key="last_session_duration",
        translation_key="last_session_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        value_fn=lambda data, ident: _last(ident, data)(
            lambda s: round((s.stopped_at - s.started_at).total_seconds() / 60, 1)
        ),
    ),
    HistorySensorDescription(
        key="last_session_cost",
        translation_key="last_session_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        value_fn=lambda data, ident: _last(ident, data)(lambda s: s.cost),
    ),
)
CARD_ENERGY = SensorEntityDescription(
    key="card_month_energy",
    translation_key="card_month_energy",
    device_class=SensorDeviceClass.ENERGY,
    native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    state_class=SensorStateClass.TOTAL,
    suggested_display_precision=2,
)
CARD_COST = SensorEntityDescription(
    key="card_month_cost",
    translation_key="card_month_cost",
    device_class=SensorDeviceClass.MONETARY,
    suggested_display_precision=2,
)


def _money[D: SensorEntityDescription](description: D, currency: str) -> D:
    if description.device_class is SensorDeviceClass.MONETARY:
        return replace(description, native_unit_of_measurement=currency)
    return description


@callback
def async_add_history_sensors(
    entry: EfluxConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback, currency: str
) -> None:
    history = entry.runtime_data.sessions
    assert history is not None
    coordinator = entry.runtime_data.coordinator

    def charger_sensor(
        coordinator: EfluxCoordinator, ident: str, description: HistorySensorDescription
    ) -> HistorySensor:
        return HistorySensor(coordinator, ident, description, history)

    descriptions = [_money(d, currency) for d in HISTORY_SENSORS]
    async_add_charger_entities(entry, async_add_entities, charger_sensor, descriptions)
    cards: set[str] = set()

    @callback
    def add_cards() -> None:
        fresh = sorted(set(history.data.month) - cards)
        cards.update(fresh)
        async_add_entities(
            CardSensor(coordinator, _money(d, currency), history, card)
            for card in fresh
            for d in (CARD_ENERGY, CARD_COST)
        )

    add_cards()
    entry.async_on_unload(history.add_listener(add_cards))


class HistorySensor(EfluxChargerEntity, SensorEntity):
    entity_description: HistorySensorDescription

    def __init__(
        self,
        coordinator: EfluxCoordinator,
        charger_id: str,
        description: HistorySensorDescription,
        history: SessionHistory,
    ) -> None:
        super().__init__(coordinator, charger_id, description)
        self._history = history

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self._history.add_listener(self.async_write_ha_state))

    @property
    def available(self) -> bool:
        """History stays readable while the charger is offline."""
        return self.coordinator.last_update_success and (
            self.charger_id in self.coordinator.data.chargers
        )

    @property
    def native_value(self) -> Value:
        return self.entity_description.value_fn(self._history.data, self.charger_id)


class CardSensor(EfluxSiteEntity, SensorEntity):
    """This month's energy or cost of one card (`total`, reset at the month's start)."""

    def __init__(
        self,
        coordinator: EfluxCoordinator,
        description: SensorEntityDescription,
        history: SessionHistory,
        card: str,
    ) -> None:
        super().__init__(coordinator, replace(description, key=f"{description.key}_{card}"))
        self._history = history
        self._card = card
        self._energy = description.key == CARD_ENERGY.key
        self._attr_translation_placeholders = {"card": card}

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self._history.add_listener(self.async_write_ha_state))

    @property
    def _total(self) -> CardTotal:
        return self._history.data.month.get(self._card, CardTotal())

    @property
    def native_value(self) -> Value:
        return round(self._total.energy_kwh, 3) if self._energy else self._total.cost

    @property
    def last_reset(self) -> datetime | None:
        return self._history.data.month_start if self._energy else None

    @property
    def extra_state_attributes(self) -> dict[str, int]:
        return {"sessions": self._total.sessions}
