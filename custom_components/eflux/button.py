"""Buttons per charger: reset (soft reboot) and unlock the connector.

The central system has no verb for these, so the OCPP message is built here from the charger's
protocol version (`LocalSite.send_ocpp` passes any message through).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.button import (
    ButtonDeviceClass,
    ButtonEntity,
    ButtonEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .core.runtime import ChargerSnapshot
from .data import EfluxConfigEntry
from .entity import EfluxChargerEntity, async_add_charger_entities, run_command

PARALLEL_UPDATES = 1


def _v201(charger: ChargerSnapshot) -> bool:
    return charger.ocpp_version == "2.0.1"


@dataclass(frozen=True, kw_only=True)
class ChargerButtonDescription(ButtonEntityDescription):
    action: str
    payload_fn: Callable[[ChargerSnapshot], dict[str, Any]]
    ok: tuple[str, ...]  # answers that mean it was done


BUTTONS: tuple[ChargerButtonDescription, ...] = (
    ChargerButtonDescription(
        key="reset",
        device_class=ButtonDeviceClass.RESTART,
        entity_registry_enabled_default=False,
        entity_category=EntityCategory.CONFIG,
        action="Reset",
        payload_fn=lambda c: {"type": "OnIdle" if _v201(c) else "Soft"},
        ok=("Accepted", "Scheduled"),
    ),
    ChargerButtonDescription(
        key="unlock",
        translation_key="unlock",
        entity_registry_enabled_default=False,
        action="UnlockConnector",
        payload_fn=lambda c: (
            {"evseId": c.connector_id, "connectorId": 1}
            if _v201(c)
            else {"connectorId": c.connector_id}
        ),
        ok=("Unlocked",),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EfluxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_charger_entities(entry, async_add_entities, EfluxButton, BUTTONS)


class EfluxButton(EfluxChargerEntity, ButtonEntity):
    entity_description: ChargerButtonDescription

    async def async_press(self) -> None:
        charger, description = self.charger, self.entity_description
        answer = await run_command(
            self.coordinator.site.send_ocpp(
                charger.id, description.action, description.payload_fn(charger)
            )
        )
        if answer.get("status") not in description.ok:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="rejected",
                translation_placeholders={"status": str(answer.get("status"))},
            )
