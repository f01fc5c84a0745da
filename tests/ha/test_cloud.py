"""The cloud account against the real back end: a card reported lost through the service is
blocked at the charger; sync now; a rejected token starts reauth, which fixes it."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.eflux.const import CONF_CLOUD_TOKEN, CONF_CLOUD_URL, CONF_PORT, DOMAIN
from tests.cloud.conftest import Cloud
from tests.support.ports import free_port

from .conftest import HarnessSim, wait_for_core_session_timers
from .helpers import until

SYNC_SENSOR = "sensor.e_flux_site_cloud_sync"


def _cloud_entry(
    hass: HomeAssistant,
    cloud: Cloud,
    token: str,
    options: dict[str, Any],
) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        entry_id="01JEFLUXCLOUDENTRY00000000",
        data={CONF_PORT: free_port(), CONF_CLOUD_URL: cloud.url, CONF_CLOUD_TOKEN: token},
        options=options,
    )
    entry.add_to_hass(hass)
    return entry


async def test_lost_card_is_blocked_at_the_charger(
    hass: HomeAssistant,
    cloud: Cloud,
    options: dict[str, Any],
    config_dir: Any,
) -> None:
    entry = _cloud_entry(hass, cloud, cloud.tokens["site"], options)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await until(hass, lambda: hass.states.get(SYNC_SENSOR).state == "ok")
    site = entry.runtime_data.site
    assert (await site.central.authorize("ANN01")).accepted  # from the cloud's card list

    sim = HarnessSim(
        f"ws://127.0.0.1:{entry.data[CONF_PORT]}",
        "CP-1",
        reconnect_delay=0.05,
        meter_interval=3600,
    )
    await sim.start()
    try:
        await hass.services.async_call(
            DOMAIN,
            "report_card_lost",
            {"config_entry_id": entry.entry_id, "card": "ANN01"},
            blocking=True,
        )
        await sim.wait_for(lambda: sim.local_list.get("ANN01") == "Blocked")
        assert (await site.central.authorize("ANN01")).status == "Blocked"
        await sim.plug_in("ANN01")
        await until(hass, lambda: bool(site.central.open_transactions("CP-1")))
        [tx] = site.central.open_transactions("CP-1")
        assert tx.card_status == "Blocked"
        assert sim.local_list.get("ANN02") != "Blocked"

        await hass.services.async_call(
            DOMAIN, "sync_now", {"config_entry_id": entry.entry_id}, blocking=True
        )
        assert hass.states.get(SYNC_SENSOR).state in ("ok", "pending")
    finally:
        await sim.close()
        await wait_for_core_session_timers(hass)
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


async def test_a_rejected_token_starts_reauth(
    hass: HomeAssistant,
    cloud: Cloud,
    options: dict[str, Any],
    config_dir: Any,
) -> None:
    entry = _cloud_entry(hass, cloud, "revoked-token", options)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await until(hass, lambda: hass.states.get(SYNC_SENSOR).state == "auth_failed")
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "sync_now", {"config_entry_id": entry.entry_id}, blocking=True
        )
    assert err.value.translation_key == "cloud_auth"
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            DOMAIN,
            "report_card_lost",
            {"config_entry_id": entry.entry_id, "card": "ANN02"},
            blocking=True,
        )

    [flow] = [
        f
        for f in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if f["context"]["source"] == SOURCE_REAUTH
    ]
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_CLOUD_TOKEN: "still-wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_CLOUD_TOKEN: cloud.tokens["site"]}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_CLOUD_TOKEN] == cloud.tokens["site"]
    assert entry.state is ConfigEntryState.LOADED
    await until(hass, lambda: hass.states.get(SYNC_SENSOR).state == "ok")
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_an_unreachable_cloud_is_a_clear_error(
    hass: HomeAssistant, options: dict[str, Any], config_dir: Any
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={
            CONF_PORT: free_port(),
            CONF_CLOUD_URL: f"http://127.0.0.1:{free_port()}",
            CONF_CLOUD_TOKEN: "t",
        },
        options=options,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)  # works offline
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "sync_now", {"config_entry_id": entry.entry_id}, blocking=True
        )
    assert err.value.translation_key == "cloud_unreachable"
    assert hass.states.get(SYNC_SENSOR).state == "offline"
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN,
            "report_card_lost",
            {"config_entry_id": entry.entry_id, "card": "X"},
            blocking=True,
        )
    assert err.value.translation_key == "cloud_unreachable"
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
