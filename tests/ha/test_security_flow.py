"""Charger security in the options (issues 18.1 and 21.1): a charger's password (a generated
strong one offered, stored ones never shown back), the password requirement, TLS from
certificate files and the boot policy reach the running site as site.yaml's `central:` would,
checked with real chargers over real websockets."""

from __future__ import annotations

import json
import ssl
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.headers import build_authorization_basic

from custom_components.eflux.const import (
    CONF_ACCEPT_NEW,
    CONF_FUSE_AMPS,
    CONF_MARGIN_AMPS,
    CONF_PHASES,
    CONF_PORT,
    DOMAIN,
)
from custom_components.eflux.core.central.credentials import password_problem
from custom_components.eflux.diagnostics import async_get_config_entry_diagnostics
from custom_components.eflux.site_config import (
    CONF_BOOT_POLICY,
    CONF_CHARGERS,
    CONF_PASSWORDS,
    build_site_config,
)
from tests.central.test_server import _self_signed

from .conftest import HarnessSim, SimFactory
from .helpers import until

GOOD = "Garage-Door-Secret-2026"


async def _menu(hass: HomeAssistant, flow_id: str, step: str) -> dict[str, Any]:
    result = await hass.config_entries.options.async_configure(flow_id, {"next_step_id": step})
    return dict(result)


async def _open(hass: HomeAssistant, entry: MockConfigEntry, step: str) -> tuple[str, Any]:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    flow_id = str(result["flow_id"])
    await _menu(hass, flow_id, "security")
    return flow_id, await _menu(hass, flow_id, step)


def _suggested(result: Any, key: str) -> Any:
    for field in result["data_schema"].schema:
        if field == key:
            return (field.description or {}).get("suggested_value")
    raise KeyError(key)


async def _saved(hass: HomeAssistant, entry: MockConfigEntry, flow_id: str) -> None:
    """Save, and wait for the entry's reload with the new options."""
    old_site = entry.runtime_data.site
    result = await _menu(hass, flow_id, "save")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    await until(
        hass,
        lambda: entry.state is ConfigEntryState.LOADED and entry.runtime_data.site is not old_site,
    )


def _auth(cp_id: str, password: str) -> dict[str, Any]:
    return {"additional_headers": {"Authorization": build_authorization_basic(cp_id, password)}}


async def _status(url: str, **kwargs: Any) -> int:
    """The handshake's HTTP status: 101 when the connection is taken (and answers a CALL)."""
    try:
        async with connect(url, subprotocols=["ocpp1.6"], open_timeout=5, **kwargs) as ws:  # type: ignore[list-item]
            await ws.send('[2,"hb","Heartbeat",{}]')
            assert json.loads(await ws.recv())[0] == 3
    except InvalidStatus as refused:
        return refused.response.status_code
    return 101


async def test_a_generated_password_is_set_and_a_wrong_one_refused(
    hass: HomeAssistant, loaded: MockConfigEntry, make_sim: SimFactory
) -> None:
    entry = loaded
    sim = await make_sim("CP-1")  # no password yet: let in
    await sim.close()
    flow_id, result = await _open(hass, entry, "charger_password")
    assert result["step_id"] == "charger_password"
    offered = _suggested(result, "password")
    assert password_problem(offered) is None
    assert len(offered) == 32
    result = await hass.config_entries.options.async_configure(
        flow_id, {"charge_point": "CP-1", "password": "short", "send_to_charger": False}
    )
    assert result["errors"] == {"password": "invalid_password"}
    assert "16 to 40" in result["description_placeholders"]["reason"]
    assert _suggested(result, "password") not in (offered, "short")  # a new one each time
    result = await hass.config_entries.options.async_configure(
        flow_id, {"charge_point": "CP-1", "password": offered, "send_to_charger": False}
    )  # typed into the charger by hand
    assert result["step_id"] == "security", result.get("errors")
    shown = result["description_placeholders"]["passwords"]
    assert offered not in shown
    assert offered[-2:] in shown  # masked: its end and length only
    await _saved(hass, entry, flow_id)
    assert entry.options[CONF_PASSWORDS] == {"CP-1": offered}
    assert dict(entry.runtime_data.site.config.central.passwords) == {"CP-1": offered}

    # The running central system now wants it: wrong or none is refused at the handshake.
    url = f"ws://127.0.0.1:{entry.data[CONF_PORT]}/CP-1"
    assert await _status(url) == 401
    assert await _status(url, **_auth("CP-1", "Wrong-Password-123456")) == 401
    charger = await make_sim("CP-1", password=offered)
    assert charger.connected.is_set()

    # The form shows stored passwords masked only, and diagnostics never.
    flow_id, result = await _open(hass, entry, "charger_password")
    assert offered not in json.dumps(result["description_placeholders"])
    assert _suggested(result, "password") != offered
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert offered not in json.dumps(diagnostics, default=str)
    hass.config_entries.options.async_abort(flow_id)


async def test_removing_a_password_and_requiring_one(
    hass: HomeAssistant, entry: MockConfigEntry, make_sim: SimFactory
) -> None:
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_PASSWORDS: {"CP-1": GOOD}}
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    flow_id, _ = await _open(hass, entry, "charger_password")
    await hass.config_entries.options.async_configure(
        flow_id, {"charge_point": "CP-1", "remove_password": True}
    )
    result = await _menu(hass, flow_id, "central_security")
    assert result["description_placeholders"]["unprotected"] == "CP-1"  # it would be refused
    result = await hass.config_entries.options.async_configure(
        flow_id, {"boot_policy": "accept_all", "require_password": True}
    )
    assert result["step_id"] == "security"
    await _saved(hass, entry, flow_id)
    assert entry.options[CONF_PASSWORDS] == {}
    central = entry.runtime_data.site.config.central
    assert central.require_password
    url = f"ws://127.0.0.1:{entry.data[CONF_PORT]}/CP-1"
    assert await _status(url) == 401  # no password set, and one is required
    assert await _status(url, **_auth("CP-1", GOOD)) == 401  # the removed one is gone
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_tls_files_are_checked_and_serve_wss(
    hass: HomeAssistant, entry: MockConfigEntry, config_dir: Path
) -> None:
    certs = config_dir / "certs"
    certs.mkdir()
    cert, key = await hass.async_add_executor_job(_self_signed, certs)
    other = config_dir / "other"
    other.mkdir()
    _, other_key = await hass.async_add_executor_job(_self_signed, other)
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_PASSWORDS: {"CP-1": GOOD}}
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    flow_id, result = await _open(hass, entry, "central_security")
    assert _suggested(result, "boot_policy") == "accept_all"  # from "accept new chargers"
    base = {"boot_policy": "accept_listed", "require_password": False}
    for given, errors, says in (
        ({"tls_cert": "certs/cert.pem"}, {"tls_key": "tls_pair_incomplete"}, ""),
        (
            {"tls_cert": "certs/missing.pem", "tls_key": "certs/key.pem"},
            {"tls_cert": "tls_unreadable"},
            "cannot read",
        ),
        (
            {"tls_cert": "certs/cert.pem", "tls_key": str(other_key)},
            {"tls_cert": "tls_mismatch"},
            "do not load",
        ),
    ):
        result = await hass.config_entries.options.async_configure(flow_id, {**base, **given})
        assert result["errors"] == errors, given
        assert says in result["description_placeholders"]["reason"], given
    result = await hass.config_entries.options.async_configure(
        flow_id, {**base, "tls_cert": "certs/cert.pem", "tls_key": str(key)}
    )
    assert result["step_id"] == "security"
    await _saved(hass, entry, flow_id)
    central = entry.runtime_data.site.config.central
    assert (central.tls_cert, central.tls_key) == (cert, key)
    assert central.boot_policy == "accept_listed"

    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False  # the certificate names localhost; we dial 127.0.0.1
    url = f"wss://127.0.0.1:{entry.data[CONF_PORT]}"
    assert await _status(f"{url}/CP-1", ssl=context, **_auth("CP-1", GOOD)) == 101
    assert await _status(f"{url}/CP-1", ssl=context, **_auth("CP-1", "Wrong-One-1234567")) == 401
    assert await _status(f"{url}/STRANGER", ssl=context) == 403  # accept_listed: not let in
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_new_chargers_held_pending_are_not_adopted(
    hass: HomeAssistant, loaded: MockConfigEntry
) -> None:
    entry = loaded
    flow_id, _ = await _open(hass, entry, "central_security")
    result = await hass.config_entries.options.async_configure(
        flow_id, {"boot_policy": "pending", "require_password": False}
    )
    assert result["step_id"] == "security"
    await _saved(hass, entry, flow_id)
    site = entry.runtime_data.site
    assert site.config.central.boot_policy == "pending"
    url = f"ws://127.0.0.1:{entry.data[CONF_PORT]}"
    sim = HarnessSim(url, "NEW-1", "1.6", reconnect_delay=0.05)
    await sim.start()
    try:
        await until(hass, lambda: site.pending_charge_points() == ["NEW-1"])
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=10))  # settle window
        await hass.async_block_till_done()
        assert entry.options[CONF_CHARGERS] == ["CP-1"]  # not adopted while it waits
        assert entry.runtime_data.site is site  # nor reloaded
    finally:
        await sim.close()


async def test_the_accept_new_switch_replaces_a_boot_policy(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """Turning "accept new chargers" on in the site settings ends "held Pending"; leaving it
    as it was keeps the policy."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={CONF_PORT: 9000},
        options={CONF_PHASES: 3, CONF_ACCEPT_NEW: False, CONF_BOOT_POLICY: "pending"},
    )
    entry.add_to_hass(hass)
    grid = {CONF_PHASES: "3", CONF_FUSE_AMPS: 25, CONF_MARGIN_AMPS: 1}
    for accept, policy in ((False, "pending"), (True, None)):
        result = await hass.config_entries.options.async_init(entry.entry_id)
        flow_id = result["flow_id"]
        await _menu(hass, flow_id, "site_settings")
        await hass.config_entries.options.async_configure(flow_id, {CONF_ACCEPT_NEW: accept})
        await hass.config_entries.options.async_configure(flow_id, grid)
        result = await _menu(hass, flow_id, "meter_none")
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert entry.options.get(CONF_BOOT_POLICY) == policy
    built = await hass.async_add_executor_job(
        build_site_config, entry.data, entry.options, config_dir, entry.entry_id
    )
    assert built.central.accept_new_chargers
    assert built.central.boot_policy != "pending"


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_new_password_sent_to_the_connected_charger(
    hass: HomeAssistant, loaded: MockConfigEntry, make_sim: SimFactory, version: str
) -> None:
    """The options give a connected charger its new password (1.6 AuthorizationKey, 2.0.1
    SecurityCtrlr.BasicAuthPassword); after the save it reconnects with it, and nobody else
    gets in without it. A charger that is not connected cannot be sent one."""
    entry = loaded
    flow_id, result = await _open(hass, entry, "charger_password")
    offered = _suggested(result, "password")
    result = await hass.config_entries.options.async_configure(
        flow_id, {"charge_point": "CP-1", "password": offered, "send_to_charger": True}
    )
    assert result["errors"] == {"base": "charger_offline"}
    hass.config_entries.options.async_abort(flow_id)

    key = "AuthorizationKey" if version == "1.6" else "SecurityCtrlr.BasicAuthPassword"
    sim = await make_sim("CP-1", version, configuration={key: ""})  # none set yet
    flow_id, result = await _open(hass, entry, "charger_password")
    send = next(f for f in result["data_schema"].schema if f == "send_to_charger")
    assert send.default() is True  # it is connected
    offered = _suggested(result, "password")
    result = await hass.config_entries.options.async_configure(
        flow_id, {"charge_point": "CP-1", "password": offered, "send_to_charger": True}
    )
    assert result["step_id"] == "security", result.get("errors")
    assert sim.configuration[key] == offered
    boots = sim.boot_count
    await _saved(hass, entry, flow_id)
    site = entry.runtime_data.site
    await until(
        hass,
        lambda: (
            site.charge_points().get("CP-1") is not None
            and site.charge_points()["CP-1"].online
            and sim.connected.is_set()
        ),
        wait_s=20,
    )
    assert sim.boot_count >= boots
    assert dict(site.config.central.passwords) == {"CP-1": offered}
    url = f"ws://127.0.0.1:{entry.data[CONF_PORT]}/CP-1"
    assert await _status(url) == 401


async def test_a_charger_that_refuses_the_password_keeps_its_old_one(
    hass: HomeAssistant, loaded: MockConfigEntry, make_sim: SimFactory
) -> None:
    entry = loaded
    sim = await make_sim("CP-1")  # without an AuthorizationKey: NotSupported
    flow_id, result = await _open(hass, entry, "charger_password")
    offered = _suggested(result, "password")
    result = await hass.config_entries.options.async_configure(
        flow_id, {"charge_point": "CP-1", "password": offered, "send_to_charger": True}
    )
    assert result["errors"] == {"base": "password_refused"}
    assert result["description_placeholders"]["reason"] == "NotSupported"
    hass.config_entries.options.async_abort(flow_id)
    assert CONF_PASSWORDS not in entry.options  # nothing kept
    assert sim.connected.is_set()
    url = f"ws://127.0.0.1:{entry.data[CONF_PORT]}/CP-1"
    assert await _status(url) == 101  # still no password needed
