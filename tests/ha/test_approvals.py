"""Boot policy "pending" in Home Assistant: a new charger that connects is held Pending and asks
to join as a fixable repair (and a notification); the repair's fix approves it, it boots again
Accepted and joins the entry with its entities; a charger that leaves takes its issue along.
Real sim chargers of both OCPP versions over real websockets; the fix flow over HA's HTTP API."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.eflux.approvals import notification_id, pending_issue_id
from custom_components.eflux.const import CONF_ACCEPT_NEW, CONF_PORT, DOMAIN
from custom_components.eflux.site_config import CONF_CHARGERS

from .conftest import ENTRY_ID, HarnessSim, configured
from .helpers import settle, until

NEW_16, NEW_201 = "CP-NEW16", "CP-NEW201"


@pytest.fixture
def options(options: dict[str, Any]) -> dict[str, Any]:
    """CP-1 is listed; any other charger waits for approval."""
    return {**options, "boot_policy": "pending", CONF_ACCEPT_NEW: False}


async def _notifications(hass_ws_client: WebSocketGenerator, hass: HomeAssistant) -> dict[str, Any]:
    ws = await hass_ws_client(hass)
    await ws.send_json({"id": 1, "type": "persistent_notification/get"})
    answer = await ws.receive_json()
    assert answer["success"], answer
    await ws.close()
    return {n["notification_id"]: n for n in answer["result"]}


async def test_a_new_charger_asks_to_join_and_is_approved_from_repairs(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    hass_ws_client: WebSocketGenerator,
) -> None:
    for component in ("repairs", "persistent_notification"):
        assert await async_setup_component(hass, component, {})
    issues = ir.async_get(hass)
    site = loaded.runtime_data.site
    url = f"ws://127.0.0.1:{loaded.data[CONF_PORT]}"
    common: dict[str, Any] = {"reconnect_delay": 0.05, "meter_interval": 3600}
    sims = [
        HarnessSim(url, NEW_16, "1.6", vendor="Alfen", model="Eve Single Pro", **common),
        HarnessSim(url, NEW_201, "2.0.1", vendor="Zaptec", model="Go", **common),
    ]
    new16, new201 = sims
    try:
        for sim in sims:
            await sim.start()
            await configured(sim)  # read (and set) while Pending
        ids = {cp: pending_issue_id(ENTRY_ID, cp) for cp in (NEW_16, NEW_201)}
        await until(hass, lambda: all(issues.async_get_issue(DOMAIN, i) for i in ids.values()))
        issue = issues.async_get_issue(DOMAIN, ids[NEW_16])
        assert issue is not None
        assert issue.is_fixable
        assert issue.translation_key == "charger_pending"
        placeholders = {"charger": NEW_16, "vendor": "Alfen", "model": "Eve Single Pro"}
        assert issue.translation_placeholders == placeholders
        assert site.pending_charge_points() == [NEW_16, NEW_201]
        notes = await _notifications(hass_ws_client, hass)
        note = notes[notification_id(ENTRY_ID, NEW_201)]
        assert note["title"] == f"Charger {NEW_201} asks to join"
        assert "(Zaptec Go)" in note["message"]
        assert f"[Approve charger {NEW_201}?](/config/repairs)" in note["message"]

        # Waiting chargers are not adopted, however long they wait.
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=30))
        await settle(hass)
        assert loaded.options[CONF_CHARGERS] == ["CP-1"]

        # The fix approves the 1.6 charger: asked to boot again, it is Accepted.
        client = await hass_client()
        response = await client.post(
            "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": ids[NEW_16]}
        )
        assert response.status == HTTPStatus.OK
        flow = await response.json()
        assert flow["step_id"] == "confirm"
        assert flow["description_placeholders"] == placeholders
        response = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
        assert response.status == HTTPStatus.OK
        assert (await response.json())["type"] == "create_entry"
        await new16.wait_for_call("TriggerMessage")
        await until(hass, lambda: site.charge_points()[NEW_16].boot_status == "Accepted")
        assert issues.async_get_issue(DOMAIN, ids[NEW_16]) is None
        assert notification_id(ENTRY_ID, NEW_16) not in await _notifications(hass_ws_client, hass)
        assert site.pending_charge_points() == [NEW_201]

        # It joins the entry as any new charger does, without a reload, with its entities.
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=60))
        await until(hass, lambda: NEW_16 in loaded.options[CONF_CHARGERS], wait_s=20)
        await until(hass, lambda: hass.states.get("sensor.cp_new16_status") is not None)
        assert new16.connected.is_set()

        # The 2.0.1 charger leaves while its fix is open: the fix finds nothing to approve,
        # and its issue and notification go with it.
        response = await client.post(
            "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": ids[NEW_201]}
        )
        flow = await response.json()
        assert flow["step_id"] == "confirm"
        await new201.close()
        await until(hass, lambda: issues.async_get_issue(DOMAIN, ids[NEW_201]) is None)
        response = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
        answer = await response.json()
        assert (answer["type"], answer["reason"]) == ("abort", "not_waiting")
        assert notification_id(ENTRY_ID, NEW_201) not in await _notifications(hass_ws_client, hass)
        assert NEW_201 not in loaded.options[CONF_CHARGERS]
    finally:
        for sim in sims:
            await sim.close()


async def test_unloading_the_entry_withdraws_the_question(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """The entry's central system stops with it: no charger waits any more."""
    for component in ("repairs", "persistent_notification"):
        assert await async_setup_component(hass, component, {})
    issues = ir.async_get(hass)
    url = f"ws://127.0.0.1:{loaded.data[CONF_PORT]}"
    sim = HarnessSim(url, NEW_201, "2.0.1", reconnect_delay=30, meter_interval=3600)
    try:
        await sim.start()
        await configured(sim)
        issue_id = pending_issue_id(ENTRY_ID, NEW_201)
        await until(hass, lambda: issues.async_get_issue(DOMAIN, issue_id) is not None)
        await hass.async_block_till_done()  # the notification's strings are loaded
        assert notification_id(ENTRY_ID, NEW_201) in await _notifications(hass_ws_client, hass)
        assert await hass.config_entries.async_unload(loaded.entry_id)
        await hass.async_block_till_done()
        assert issues.async_get_issue(DOMAIN, issue_id) is None
        assert notification_id(ENTRY_ID, NEW_201) not in await _notifications(hass_ws_client, hass)
    finally:
        await sim.close()
