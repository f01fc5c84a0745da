"""Sensors: per charger (status, power, currents, energy, SoC, card, plan, planned cost) and the
site (grid, balancer, meter, the planner's current electricity price)."""

from __future__ import annotations

import re
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
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_utc_time_change
from homeassistant.helpers.typing import StateType

from .coordinator import EfluxCoordinator
from .core.runtime import ChargerSnapshot, SiteSnapshot
from .data import EfluxConfigEntry
from .entity import EfluxChargerEntity, EfluxSiteEntity, async_add_charger_entities
from .session_sensors import async_add_history_sensors

PARALLEL_UPDATES = 0  # push: nothing to poll

# OCPP connector statuses, 1.6 and 2.0.1, as snake_case states.
CHARGER_STATUSES = [
    "available",
    "preparing",
    "charging",
    "suspended_ev",
    "suspended_evse",
    "finishing",
    "reserved",
    "unavailable",
    "faulted",
    "occupied",
]
BALANCER_CHARGER_STATES = ["charging", "paused", "waiting", "idle", "off"]
BALANCER_SITE_STATES = ["ok", "overload", "meter_lost"]
METER_STATES = ["ok", "stale", "implausible"]


def snake(value: str | None) -> str | None:
    """`SuspendedEVSE` -> `suspended_evse` (the OCPP spelling as an HA state)."""
    if value is None:
        return None
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", value).lower()


def _wh(kwh: float | None) -> float | None:
    """kWh to the register's own resolution (Wh), without float noise in the state."""
    return None if kwh is None else round(kwh, 3)


@dataclass(frozen=True, kw_only=True)
class ChargerSensorDescription(SensorEntityDescription):
    value_fn: Callable[[ChargerSnapshot], StateType | datetime | Decimal]


@dataclass(frozen=True, kw_only=True)
class SiteSensorDescription(SensorEntityDescription):
    value_fn: Callable[[SiteSnapshot], StateType]
    has_fn: Callable[[SiteSnapshot], bool] = lambda _: True


def _phase_current(index: int) -> ChargerSensorDescription:
    return ChargerSensorDescription(
        key=f"current_l{index + 1}",
        translation_key=f"current_l{index + 1}",
        entity_registry_enabled_default=False,  # Power says enough for most users
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda c: c.current_a[index],
    )


CHARGER_SENSORS: tuple[ChargerSensorDescription, ...] = (
    ChargerSensorDescription(
        key="status",
        translation_key="status",
        device_class=SensorDeviceClass.ENUM,
        options=CHARGER_STATUSES,
        value_fn=lambda c: snake(c.status),
    ),
    ChargerSensorDescription(
        key="power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda c: c.power_w,
    ),
    *(_phase_current(i) for i in range(3)),
    ChargerSensorDescription(
        key="session_energy",
        translation_key="session_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=2,
        value_fn=lambda c: _wh(c.session_energy_kwh),
    ),
    ChargerSensorDescription(
        key="total_energy",
        translation_key="total_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=1,
        value_fn=lambda c: _wh(c.total_energy_kwh),
    ),
    ChargerSensorDescription(
        key="soc",
        translation_key="soc",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda c: c.soc,
    ),
    ChargerSensorDescription(
        key="card",
        translation_key="card",
        value_fn=lambda c: c.card,
    ),
    ChargerSensorDescription(
        key="expected_finish",
        translation_key="expected_finish",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda c: c.expected_finish,
    ),
    ChargerSensorDescription(
        # At the prices the planner used; unknown without a plan or when an hour it charges
        # in has no price. Unit: HA's currency (async_setup_entry), as the prices should be.
        key="planned_cost",
        translation_key="planned_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        value_fn=lambda c: c.estimated_cost,
    ),
    ChargerSensorDescription(
        key="current_limit",
        translation_key="current_limit",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda c: c.limit_a,
    ),
    ChargerSensorDescription(
        key="balancer_status",
        translation_key="charger_balancer_status",
        device_class=SensorDeviceClass.ENUM,
        options=BALANCER_CHARGER_STATES,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda c: c.balancer_status,
    ),
)


def _grid_current(index: int) -> SiteSensorDescription:
    return SiteSensorDescription(
        key=f"grid_current_l{index + 1}",
        translation_key=f"grid_current_l{index + 1}",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda s: s.grid_current_a[index],
        has_fn=lambda s: bool(s.meters),
    )


def _grid_meter_quality(site: SiteSnapshot) -> str | None:
    return site.meters[0].quality if site.meters else None


def _own_meter(site: SiteSnapshot) -> bool:
    """A meter core reads itself (Modbus): it has registers beyond the currents."""
    return bool(site.meters) and site.meters[0].kind != "external"


def _grid_power(index: int) -> SiteSensorDescription:
    return SiteSensorDescription(
        key=f"grid_power_l{index + 1}",
        translation_key=f"grid_power_l{index + 1}",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda s: s.meters[0].phase_power_w[index] if s.meters else None,
        has_fn=_own_meter,
    )


# The Energy dashboard's "grid consumption" and "return to grid": the meter's own registers.
GRID_ENERGY_SENSORS: tuple[SiteSensorDescription, ...] = tuple(
    SiteSensorDescription(
        key=f"grid_{way}_energy",
        translation_key=f"grid_{way}_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=2,
        value_fn=value_fn,
        has_fn=_own_meter,
    )
    for way, value_fn in (
        ("import", lambda s: _wh(s.meters[0].import_kwh) if s.meters else None),
        ("export", lambda s: _wh(s.meters[0].export_kwh) if s.meters else None),
    )
)


# Capacity tariff (site.yaml `planner.capacity_tariff`): only on a site that has one.
_CAPACITY: tuple[tuple[str, Callable[[SiteSnapshot], StateType]], ...] = (
    ("capacity_quarter_average", lambda s: s.capacity_quarter_average_kw),
    ("capacity_month_peak", lambda s: s.capacity_month_peak_kw),
    ("capacity_target", lambda s: s.capacity_target_kw),
)


def _capacity(key: str, value: Callable[[SiteSnapshot], StateType]) -> SiteSensorDescription:
    return SiteSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=value,
        has_fn=lambda s: s.capacity_target_kw is not None,
    )


SITE_SENSORS: tuple[SiteSensorDescription, ...] = (
    *(_grid_current(i) for i in range(3)),
    *(_grid_power(i) for i in range(3)),
    *GRID_ENERGY_SENSORS,
    SiteSensorDescription(
        key="household_power",
        translation_key="household_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda s: s.household_power_w,
        has_fn=lambda s: bool(s.meters),
    ),
    SiteSensorDescription(
        key="available_capacity",
        translation_key="available_capacity",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda s: min(s.available_a),
    ),
    SiteSensorDescription(
        key="pv_surplus",
        translation_key="pv_surplus",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda s: s.pv_surplus_w,
        has_fn=lambda s: bool(s.meters),
    ),
    SiteSensorDescription(
        key="balancer_status",
        translation_key="balancer_status",
        device_class=SensorDeviceClass.ENUM,
        options=BALANCER_SITE_STATES,
        value_fn=lambda s: s.balancer_status,
    ),
    SiteSensorDescription(
        key="meter_status",
        translation_key="meter_status",
        device_class=SensorDeviceClass.ENUM,
        options=METER_STATES,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_grid_meter_quality,
        has_fn=lambda s: bool(s.meters),
    ),
    *(_capacity(key, value) for key, value in _CAPACITY),
)

# The price of the current hour is not in the snapshot: the entity reads the controller, and
# again at every hour's start (no pass need happen then).
PRICE_SENSOR = SensorEntityDescription(
    key="electricity_price",
    translation_key="electricity_price",
    state_class=SensorStateClass.MEASUREMENT,
)


def in_currency[D: SensorEntityDescription](description: D, currency: str) -> D:
    """A money description in HA's currency (per kWh for a price)."""
    if description.device_class is SensorDeviceClass.MONETARY:
        return replace(description, native_unit_of_measurement=currency)
    return description


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EfluxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data.coordinator
    snapshot = coordinator.data
    entities: list[SensorEntity] = [
        EfluxSiteSensor(coordinator, description)
        for description in SITE_SENSORS
        if description.has_fn(snapshot)
    ]
    currency = hass.config.currency
    entities.append(EfluxPriceSensor(coordinator, PRICE_SENSOR, currency))
    charger_sensors = [in_currency(d, currency) for d in CHARGER_SENSORS]
    if entry.runtime_data.cloud is not None:
        entities.append(entry.runtime_data.cloud.sensor(coordinator))
    async_add_entities(entities)
    async_add_charger_entities(entry, async_add_entities, EfluxChargerSensor, charger_sensors)
    async_add_history_sensors(entry, async_add_entities, currency)


class EfluxChargerSensor(EfluxChargerEntity, SensorEntity):
    entity_description: ChargerSensorDescription

    @property
    def native_value(self) -> StateType | datetime | Decimal:
        return self.entity_description.value_fn(self.charger)


class EfluxSiteSensor(EfluxSiteEntity, SensorEntity):
    entity_description: SiteSensorDescription

    @property
    def native_value(self) -> StateType:
        return self.entity_description.value_fn(self.coordinator.data)


class EfluxPriceSensor(EfluxSiteEntity, SensorEntity):
    """The price per kWh the planner uses for the current hour (pushed, else the tariff)."""

    def __init__(
        self, coordinator: EfluxCoordinator, description: SensorEntityDescription, currency: str
    ) -> None:
        super().__init__(coordinator, description)
        self._attr_native_unit_of_measurement = f"{currency}/{UnitOfEnergy.KILO_WATT_HOUR}"

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        # Prices are per UTC hour (also in time zones a half hour off).
        self.async_on_remove(
            async_track_utc_time_change(self.hass, self._new_hour, minute=0, second=0)
        )

    @callback
    def _new_hour(self, _: datetime) -> None:
        self.async_write_ha_state()

    @property
    def native_value(self) -> Decimal | None:
        return self.coordinator.site.price_now().price
