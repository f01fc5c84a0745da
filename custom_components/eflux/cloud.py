"""The optional cloud account: core's sync link, its status as a sensor, reauth on a 401.

The HTTP session is Home Assistant's shared one (inject-websession); the cloud also answers
for cards the local list does not know (the central system's remote authorizer).
"""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .const import CONF_CLOUD_TOKEN, CONF_CLOUD_URL, DOMAIN
from .coordinator import EfluxCoordinator
from .core.runtime import (
    CloudAuthError,
    CloudClient,
    CloudError,
    CloudLink,
    LocalSite,
    SyncStatus,
)
from .data import EfluxConfigEntry
from .entity import EfluxSiteEntity

SYNC_STATES = ["ok", "pending", "offline", "auth_failed"]
SYNC_SENSOR = SensorEntityDescription(
    key="cloud_sync",
    translation_key="cloud_sync",
    device_class=SensorDeviceClass.ENUM,
    options=SYNC_STATES,
    entity_category=EntityCategory.DIAGNOSTIC,
)


def sync_state(status: SyncStatus) -> str:
    if status.auth_failed:
        return "auth_failed"
    if not status.online:
        return "offline"
    return "pending" if status.pending else "ok"


def cloud_client(hass: HomeAssistant, entry: EfluxConfigEntry) -> CloudClient | None:
    """A client when the entry has a cloud account (built before the site: it authorizes)."""
    if not entry.data.get(CONF_CLOUD_URL):
        return None
    return CloudClient(
        entry.data[CONF_CLOUD_URL],
        entry.data[CONF_CLOUD_TOKEN],
        session=async_get_clientsession(hass),
    )


class EfluxCloud:
    """Core's `CloudLink` for one entry, with HA's reactions to its status."""

    def __init__(self, hass: HomeAssistant, entry: EfluxConfigEntry, link: CloudLink) -> None:
        self.hass = hass
        self.entry = entry
        self.link = link
        self._listeners: list[Callable[[], None]] = []
        self._remove = link.sync.add_listener(self._status_changed)

    @property
    def status(self) -> SyncStatus:
        return self.link.status

    @callback
    def _status_changed(self, status: SyncStatus) -> None:
        if status.auth_failed:
            self.entry.async_start_reauth(self.hass)
        for listener in list(self._listeners):
            listener()

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def async_report_card_lost(self, uid: str) -> None:
        try:
            await self.link.report_card_lost(uid)
        except CloudAuthError as err:
            self.entry.async_start_reauth(self.hass)
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="cloud_auth"
            ) from err
        except CloudError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="cloud_unreachable",
                translation_placeholders={"error": str(err)},
            ) from err

    async def async_sync_now(self) -> None:
        await self.link.sync.attempt()
        status = self.link.status
        if status.auth_failed:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="cloud_auth")
        if not status.online:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="cloud_unreachable",
                translation_placeholders={"error": status.last_error or ""},
            )

    async def async_stop(self) -> None:
        self._remove()
        await self.link.stop()

    def sensor(self, coordinator: EfluxCoordinator) -> SensorEntity:
        return CloudSyncSensor(coordinator, self)


async def async_start_cloud(
    hass: HomeAssistant, entry: EfluxConfigEntry, site: LocalSite, client: CloudClient | None
) -> EfluxCloud | None:
    if client is None:
        return None
    link = await site.connect_cloud(client)
    return EfluxCloud(hass, entry, link)


class CloudSyncSensor(EfluxSiteEntity, SensorEntity):
    """ok / pending (sessions waiting) / offline / auth_failed, with the details as attributes."""

    def __init__(self, coordinator: EfluxCoordinator, cloud: EfluxCloud) -> None:
        super().__init__(coordinator, SYNC_SENSOR)
        self._cloud = cloud

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self._cloud.async_add_listener(self.async_write_ha_state))

    @property
    def native_value(self) -> str:
        return sync_state(self._cloud.status)

    @property
    def extra_state_attributes(self) -> dict[str, object]:
        status = self._cloud.status
        return {
            "pending_sessions": status.pending,
            "last_success": status.last_success_at.isoformat() if status.last_success_at else None,
            "card_list_version": status.card_list_version,
        }
