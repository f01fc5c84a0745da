"""The Home Assistant entry points (re-exported by the package when HA is installed).

The entry runs one `LocalSite` (core: central system + meters + controller); this layer only
translates its snapshots into entities and entity actions into its commands.
"""

from __future__ import annotations

import errno
from pathlib import Path

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.typing import ConfigType

from .cloud import async_start_cloud, cloud_client
from .compat import get_device, remove_device
from .const import DOMAIN, ISSUE_PORT_CONFLICT
from .coordinator import EfluxCoordinator
from .core.runtime import CloudClient, ConfigError, LocalSite
from .data import EfluxConfigEntry, EfluxRuntimeData
from .entity import async_register_site_device, site_device_id
from .events import async_forward_central_events
from .local_api import async_serve_local_api
from .meter_link import async_link_meter
from .new_chargers import async_add_to_running_site, async_adopt_new_chargers
from .ocpp_schemas import load_ocpp_schemas
from .services import async_setup_services
from .sessions import SessionHistory
from .site_config import CONF_CHARGERS, CONF_REMOVED, build_site_config
from .sockets import CONF_CONNECTORS
from .watch import SiteWatcher

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.DATETIME,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.UPDATE,
]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Services belong to the integration, not to an entry (they name the device)."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: EfluxConfigEntry) -> bool:
    """Start the site: the OCPP port opens, meters start, the controller runs."""
    storage = Path(hass.config.path(DOMAIN))
    await hass.async_add_executor_job(storage.mkdir, 0o755, True, True)
    client = cloud_client(hass, entry)
    try:
        # In the executor: a Modbus meter's profile is a YAML file read while the site is built.
        site = await hass.async_add_executor_job(
            _build_site, entry, storage, client, hass.config.time_zone
        )
    except ConfigError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="invalid_config",
            translation_placeholders={"error": str(err)},
        ) from err
    # Before the port opens: the first message of each kind would read its schema in the loop.
    await hass.async_add_executor_job(load_ocpp_schemas)
    await _async_start_site(hass, entry, site)
    entry.async_on_unload(site.stop)  # runs last: after the platforms are gone
    if (stop_api := await async_serve_local_api(site)) is not None:
        entry.async_on_unload(stop_api)  # the console's port closes before the site stops
    entry.async_on_unload(async_forward_central_events(hass, site))
    entry.async_on_unload(await async_link_meter(hass, entry, site))
    entry.async_on_unload(async_adopt_new_chargers(hass, entry, site))
    cloud = await async_start_cloud(hass, entry, site, client)
    if cloud is not None:
        entry.async_on_unload(cloud.async_stop)
    coordinator = EfluxCoordinator(hass, entry, site)
    entry.runtime_data = EfluxRuntimeData(
        site=site,
        coordinator=coordinator,
        cloud=cloud,
        options=dict(entry.options),
        data=dict(entry.data),
    )
    sessions = entry.runtime_data.sessions = SessionHistory(hass, site)
    await sessions.async_refresh()
    entry.async_on_unload(sessions.async_start())
    coordinator.async_start_push()
    entry.async_on_unload(coordinator.async_stop_push)
    async_register_site_device(hass, entry)  # before the chargers that name it via_device
    entry.runtime_data.watcher = SiteWatcher(hass, entry, coordinator)
    entry.async_on_unload(entry.runtime_data.watcher.async_start())
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(entry.add_update_listener(_async_options_changed))
    return True


def _build_site(
    entry: EfluxConfigEntry, storage: Path, client: CloudClient | None, timezone: str
) -> LocalSite:
    config = build_site_config(entry.data, entry.options, storage, entry.entry_id, timezone)
    return LocalSite(config, remote_authorizer=client.authorize if client else None)


async def _async_start_site(hass: HomeAssistant, entry: EfluxConfigEntry, site: LocalSite) -> None:
    port = site.config.central.port
    try:
        await site.start()
    except OSError as err:
        if err.errno not in (errno.EADDRINUSE, errno.EACCES):
            raise
        ir.async_create_issue(
            hass,
            DOMAIN,
            f"{ISSUE_PORT_CONFLICT}_{entry.entry_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_PORT_CONFLICT,
            translation_placeholders={"port": str(port)},
        )
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="port_in_use",
            translation_placeholders={"port": str(port)},
        ) from err
    ir.async_delete_issue(hass, DOMAIN, f"{ISSUE_PORT_CONFLICT}_{entry.entry_id}")


async def _async_options_changed(hass: HomeAssistant, entry: EfluxConfigEntry) -> None:
    """More chargers or sockets join the running site; anything else reloads the entry."""
    if not await async_add_to_running_site(hass, entry):
        await hass.config_entries.async_reload(entry.entry_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: EfluxConfigEntry, device: dr.DeviceEntry
) -> bool:
    """A charger that is gone for good can be deleted while it is offline, with its sockets'
    devices; the site cannot, nor one socket of a box (it goes with its box)."""
    prefix = f"{entry.entry_id}_"
    registry = dr.async_get(hass)
    site = get_device(registry, (DOMAIN, site_device_id(entry.entry_id)), entry.entry_id)
    chargers = {
        ident[len(prefix) :]
        for domain, ident in device.identifiers
        if domain == DOMAIN and ident.startswith(prefix)
    }
    # A socket's device hangs below its charge point's, a charge point's below the site's.
    if not chargers or (site is not None and device.via_device_id not in (None, site.id)):
        return False
    snapshot = entry.runtime_data.coordinator.data
    if any(c.online for c in snapshot.chargers.values() if c.charge_point_id in chargers):
        return False
    known = entry.options.get(CONF_CHARGERS, [])
    for socket in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if socket.via_device_id == device.id:  # the box's sockets (chargers have none)
            remove_device(registry, socket.id, entry.entry_id)
    remaining = [c for c in known if c not in chargers]
    # Remembered, so that setup does not adopt it again from the central system's records;
    # it is added again when it boots again.
    removed = sorted({*entry.options.get(CONF_REMOVED, []), *chargers})
    sockets = {
        cp: n for cp, n in (entry.options.get(CONF_CONNECTORS) or {}).items() if cp in remaining
    }
    options = {**entry.options, CONF_CHARGERS: remaining, CONF_REMOVED: removed}
    if CONF_CONNECTORS in entry.options:
        options[CONF_CONNECTORS] = sockets
    hass.config_entries.async_update_entry(entry, options=options)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: EfluxConfigEntry) -> bool:
    """Remove the entities; `site.stop` (registered at setup) then closes port, meters, tasks."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
