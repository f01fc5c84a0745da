"""Base entities: one device per charge point (and one per socket of a box with several), one
for the site; core errors as HA errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.restore_state import ExtraStoredData, RestoreEntity
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from homeassistant.util import dt as dt_util

from .compat import with_via_device
from .const import DOMAIN
from .coordinator import EfluxCoordinator
from .core.runtime import (
    CallRejected,
    CentralError,
    ChargePointOffline,
    ChargerSnapshot,
    NoActiveTransaction,
)
from .data import EfluxConfigEntry
from .sockets import SEPARATOR

MANUFACTURER = "E-Flux Local"
# Entities of the whole box, not of a socket: restart it, its connection, its availability
# (ChangeAvailability on connector 0).
BOX_KEYS = frozenset({"reset", "online", "available", "firmware"})
# What stays available while the charger is offline: whether it is connected.
OFFLINE_KEYS = frozenset({"online"})
_LOGGER = logging.getLogger(__name__)


def site_device_id(entry_id: str) -> str:
    return entry_id


def charger_device_id(entry_id: str, key: str) -> str:
    """A charge point's device (`key` = its id), or a socket's (`<charge point id>:<n>`)."""
    return f"{entry_id}_{key}"


def socket_device_key(charger: ChargerSnapshot) -> str:
    return f"{charger.charge_point_id}{SEPARATOR}{charger.connector_id}"


def _box_info(entry_id: str, charger: ChargerSnapshot) -> DeviceInfo:
    return DeviceInfo(
        identifiers={(DOMAIN, charger_device_id(entry_id, charger.charge_point_id))},
        name=_box_name(charger),
        manufacturer=charger.vendor,
        model=charger.model,
        sw_version=charger.firmware,
        serial_number=charger.charge_point_id,
    )


def charger_device_info(hass: HomeAssistant, entry_id: str, charger: ChargerSnapshot) -> DeviceInfo:
    """The charge point, below the site: manufacturer, model and firmware come from its boot
    message."""
    box = _box_info(entry_id, charger)
    return with_via_device(hass, entry_id, box, site_device_info(entry_id))


def socket_device_info(hass: HomeAssistant, entry_id: str, charger: ChargerSnapshot) -> DeviceInfo:
    """One socket of a box with several, a sub-device of the charge point (as the OCPP
    integration's "<charger> Connector <n>" devices)."""
    socket = DeviceInfo(
        identifiers={(DOMAIN, charger_device_id(entry_id, socket_device_key(charger)))},
        name=f"{_box_name(charger)} connector {charger.connector_id}",
    )
    box = with_via_device(hass, entry_id, _box_info(entry_id, charger), site_device_info(entry_id))
    return with_via_device(hass, entry_id, socket, box)


def _box_name(charger: ChargerSnapshot) -> str:
    # A socket's own name is its charger id (`<cp>:<n>`); the box is named after socket 1.
    if charger.connector_id != 1:
        return charger.charge_point_id
    return charger.name or charger.charge_point_id


def box_sockets_of(chargers: Mapping[str, ChargerSnapshot], cp_id: str) -> list[ChargerSnapshot]:
    """The balanced chargers (sockets) of one charge point, socket 1 first."""
    found = [c for c in chargers.values() if c.charge_point_id == cp_id]
    return sorted(found, key=lambda c: c.connector_id)


def charger_for_device(chargers: Mapping[str, ChargerSnapshot], key: str) -> ChargerSnapshot | None:
    """The charger a device stands for: a charge point's device its first socket (as before
    sockets were known, so automations on it keep working), a socket's device that socket."""
    if key in chargers:
        return chargers[key]
    cp_id, _, number = key.rpartition(SEPARATOR)
    sockets = box_sockets_of(chargers, cp_id) if number.isdigit() else []
    return next((c for c in sockets if c.connector_id == int(number)), None)


def site_device_info(entry_id: str) -> DeviceInfo:
    return DeviceInfo(
        identifiers={(DOMAIN, site_device_id(entry_id))},
        name="E-Flux site",
        manufacturer=MANUFACTURER,
        model="Local site",
    )


@callback
def async_register_site_device(hass: HomeAssistant, entry: EfluxConfigEntry) -> None:
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **site_device_info(entry.entry_id)
    )


class EfluxEntity(CoordinatorEntity[EfluxCoordinator]):
    _attr_has_entity_name = True

    def __init__(self, coordinator: EfluxCoordinator, description: EntityDescription) -> None:
        super().__init__(coordinator)
        self.entity_description = description


class EfluxSiteEntity(EfluxEntity):
    """An entity of the site device (grid connection, balancer, cloud)."""

    def __init__(self, coordinator: EfluxCoordinator, description: EntityDescription) -> None:
        super().__init__(coordinator, description)
        entry_id = coordinator.config_entry.entry_id
        self._attr_unique_id = f"{entry_id}_site_{description.key}"
        self._attr_device_info = site_device_info(entry_id)


class EfluxChargerEntity(EfluxEntity):
    """An entity of one charger: on its charge point's device, or on its socket's device when
    the box has several sockets (then what concerns the whole box stays on the box)."""

    def __init__(
        self, coordinator: EfluxCoordinator, charger_id: str, description: EntityDescription
    ) -> None:
        super().__init__(coordinator, description)
        entry_id = coordinator.config_entry.entry_id
        self.charger_id = charger_id
        self._attr_unique_id = f"{entry_id}_{charger_id}_{description.key}"
        charger = coordinator.data.chargers[charger_id]
        several = len(box_sockets_of(coordinator.data.chargers, charger.charge_point_id)) > 1
        if several and description.key not in BOX_KEYS:
            self._attr_device_info = socket_device_info(coordinator.hass, entry_id, charger)
        else:
            self._attr_device_info = charger_device_info(coordinator.hass, entry_id, charger)

    @property
    def charger(self) -> ChargerSnapshot:
        return self.coordinator.data.chargers[self.charger_id]

    @property
    def available(self) -> bool:
        """Unavailable while the charger is offline (what it last said is no longer true),
        except whether it is online."""
        charger = self.coordinator.data.chargers.get(self.charger_id)
        return (
            super().available
            and charger is not None
            and (charger.online or self.entity_description.key in OFFLINE_KEYS)
        )


def charger_entities[E: EfluxChargerEntity, D: EntityDescription](
    entry: EfluxConfigEntry,
    factory: Callable[[EfluxCoordinator, str, D], E],
    descriptions: Iterable[D],
    charger_ids: Iterable[str] | None = None,
) -> list[E]:
    """One entity per charger (all, or `charger_ids`) and description; a box's own entities
    (BOX_KEYS) once per charge point, with its first socket."""
    coordinator = entry.runtime_data.coordinator
    chargers = coordinator.data.chargers
    wanted = list(chargers) if charger_ids is None else list(charger_ids)
    return [
        factory(coordinator, charger_id, description)
        for charger_id in wanted
        for description in descriptions
        if description.key not in BOX_KEYS
        or box_sockets_of(chargers, chargers[charger_id].charge_point_id)[0].id == charger_id
    ]


@callback
def async_add_charger_entities[E: EfluxChargerEntity, D: EntityDescription](
    entry: EfluxConfigEntry,
    async_add_entities: Callable[[Iterable[E]], None],
    factory: Callable[[EfluxCoordinator, str, D], E],
    descriptions: Iterable[D],
) -> None:
    """The chargers' entities now, and those of every charger the site balances later
    (`LocalSite.add_chargers`: no reload)."""
    coordinator = entry.runtime_data.coordinator
    kinds = list(descriptions)
    known: set[str] = set()

    @callback
    def add_new() -> None:
        fresh = [ident for ident in coordinator.data.chargers if ident not in known]
        if fresh:
            known.update(fresh)
            async_add_entities(charger_entities(entry, factory, kinds, fresh))

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))


class SettingData(ExtraStoredData):
    """What a setting entity stores for the next start: its value and the entry it belongs to
    (entity ids are reused when an entry is deleted and added again; its settings are not)."""

    def __init__(self, entry_id: str, value: str | None) -> None:
        self.entry_id = entry_id
        self.value = value

    def as_dict(self) -> dict[str, Any]:
        return {"entry_id": self.entry_id, "value": self.value}


class RestoredSetting(EfluxChargerEntity, RestoreEntity):
    """A user setting (mode, cap, target SoC, departure) lives in the running site only; the
    value stored at the last stop gives it back after a restart or reload, if it was stored
    by this same config entry (also while the charger was offline: the value is stored apart
    from the state, which is then `unavailable`)."""

    @property
    def extra_restore_state_data(self) -> SettingData:
        return SettingData(self.coordinator.config_entry.entry_id, self.setting_text())

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        value = await self._stored_value()
        if value is None or value in (STATE_UNKNOWN, STATE_UNAVAILABLE):
            return
        try:
            await self.async_restore(value)
        except (HomeAssistantError, ValueError) as err:
            _LOGGER.warning("%s: not restored (%s): %s", self.entity_id, value, err)

    async def _stored_value(self) -> str | None:
        extra = await self.async_get_last_extra_data()
        stored = extra.as_dict() if extra is not None else {}
        if "entry_id" in stored:
            own = stored["entry_id"] == self.coordinator.config_entry.entry_id
            return str(stored["value"]) if own and stored.get("value") is not None else None
        # Stored by a version without SettingData: the state is ours only if this entity's
        # registry entry is older than it (a new entry's entity is created after it).
        last = await self.async_get_last_state()
        registered = er.async_get(self.hass).async_get(self.entity_id)
        if last is None or registered is None or registered.created_at > last.last_updated:
            return None
        return last.state

    def setting_text(self) -> str | None:
        """The setting as the state text `async_restore` takes."""
        raise NotImplementedError

    async def async_restore(self, state: str) -> None:
        raise NotImplementedError


def future_departure(departure: datetime) -> datetime:
    """A departure still to come (aware UTC); a past one is refused: the planner would drop it
    and the car would never charge for it."""
    if departure.tzinfo is None:  # the UI sends local wall-clock time
        departure = departure.replace(tzinfo=dt_util.get_default_time_zone())
    departure = dt_util.as_utc(departure)
    if departure <= dt_util.utcnow():
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="departure_in_past",
            translation_placeholders={"departure": dt_util.as_local(departure).isoformat()},
        )
    return departure


async def run_command[T](command: Awaitable[T]) -> T:
    """Await a core command; its errors become HA errors with a translated message."""
    try:
        return await command
    except ChargePointOffline as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="charger_offline"
        ) from err
    except NoActiveTransaction as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="no_transaction"
        ) from err
    except CallRejected as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="rejected",
            translation_placeholders={"status": err.status},
        ) from err
    except CentralError as err:  # timeouts, CALLERRORs and the rest
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="charger_error",
            translation_placeholders={"error": str(err)},
        ) from err
    except (KeyError, ValueError) as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_value",
            translation_placeholders={"error": str(err)},
        ) from err
