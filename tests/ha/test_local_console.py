"""The local API and the building console served from Home Assistant (option "Local API and
building console", console_flow.py + local_api.py): set through the options flow, the console
answers over real HTTP on its own port, the manager logs in with the password stored only as a
scrypt hash and sees the site; a reload frees and binds the port again, an unload closes it."""

from __future__ import annotations

import json
import socket
from typing import Any

import aiohttp
import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.eflux.core.runner.console.hashing import verify_password
from custom_components.eflux.diagnostics import async_get_config_entry_diagnostics
from custom_components.eflux.site_config import (
    CONF_API_HOST,
    CONF_API_PORT,
    CONF_API_TOKEN,
    CONF_CONSOLE_PASSWORD,
    CONF_SERVE_API,
)
from tests.support.ports import free_port, port_answers

PASSWORD = "manager-secret-17"


async def _set_console(hass: HomeAssistant, entry: MockConfigEntry, answers: dict[str, Any]) -> Any:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert "console" in result["menu_options"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "console"}
    )
    assert result["step_id"] == "console"
    result = await hass.config_entries.options.async_configure(result["flow_id"], answers)
    await hass.async_block_till_done()  # the update listener reloads the entry
    return result


async def _log_in(base: str, password: str) -> tuple[int, str]:
    """As a browser: the login page's CSRF cookie, the form, then the site page."""
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(f"{base}/console/login") as page:
            assert page.status == 200
            assert 'name="password"' in await page.text()
            token = page.cookies["eflux_console_login"].value
        form = {"csrf": token, "user": "manager", "password": password}
        async with http.post(f"{base}/console/login", data=form, allow_redirects=False) as answer:
            if answer.status != 303:
                return answer.status, ""
        async with http.get(f"{base}/console/site") as site:
            return site.status, await site.text()


async def _serves(port: int) -> bool:
    """A whole request answered (an async probe: a bare connect from the loop's own thread
    could be accepted by a server that closes before it takes the connection)."""
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/api/site"):
            return True
    except aiohttp.ClientConnectionError:
        return False


@pytest.mark.usefixtures("loaded")
async def test_console_served_from_home_assistant(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    port = free_port()
    assert not port_answers(port)
    answers = {CONF_SERVE_API: True, CONF_API_PORT: port, CONF_API_HOST: "127.0.0.1"}
    result = await _set_console(hass, entry, {**answers, "manager_password": PASSWORD})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.state is ConfigEntryState.LOADED
    stored = entry.options[CONF_CONSOLE_PASSWORD]
    assert stored.startswith("scrypt$")
    assert verify_password(PASSWORD, stored)
    assert PASSWORD not in json.dumps(dict(entry.options))  # only the hash is kept
    base = f"http://127.0.0.1:{port}"

    status, page = await _log_in(base, PASSWORD)
    assert status == 200
    assert "Grid connection" in page  # the site's root circuit, from HA's options
    assert (await _log_in(base, "wrong-password"))[0] != 303  # refused: stays on the form
    async with aiohttp.ClientSession() as http, http.get(f"{base}/api/site") as api:
        assert api.status == 200  # the local API on the same port (loopback: no token)
        assert (await api.json())["balancer_status"] == "ok"

    # With a token the API asks for it; the console keeps its own login. Diagnostics show
    # neither the token nor the hash.
    token = "t0ken-for-the-local-api"
    result = await _set_console(hass, entry, {**answers, CONF_API_TOKEN: token})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_CONSOLE_PASSWORD] == stored  # an empty password field keeps it
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/api/site") as api:
            assert api.status == 401
        headers = {"Authorization": f"Bearer {token}"}
        async with http.get(f"{base}/api/site", headers=headers) as api:
            assert api.status == 200
    assert (await _log_in(base, PASSWORD))[0] == 200
    diagnostics = json.dumps(await async_get_config_entry_diagnostics(hass, entry), default=str)
    assert token not in diagnostics
    assert stored not in diagnostics

    # A reload closes the port and opens it again (no leaked listener blocks the new site).
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert (await _log_in(base, PASSWORD))[0] == 200

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert not port_answers(port)


@pytest.mark.usefixtures("loaded")
async def test_console_off_again_and_refusals(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    port = free_port()
    on = {CONF_SERVE_API: True, CONF_API_PORT: port, CONF_API_HOST: "127.0.0.1"}
    # Another address without a token and a manager password: core refuses the site.
    result = await _set_console(hass, entry, {**on, CONF_API_HOST: "0.0.0.0"})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_site"}
    assert "token" in result["description_placeholders"]["reason"]
    assert CONF_SERVE_API not in entry.options
    # Served without a password (loopback), then switched off: the port closes.
    assert (await _set_console(hass, entry, on))["type"] is FlowResultType.CREATE_ENTRY
    assert await _serves(port)
    assert CONF_CONSOLE_PASSWORD not in entry.options
    result = await _set_console(hass, entry, {**on, CONF_SERVE_API: False})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.state is ConfigEntryState.LOADED
    assert not await _serves(port)


async def test_console_port_taken_retries_and_leaves_nothing_open(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """The console's port held by another program: the entry retries later (HA's port_in_use)
    and the site it started is stopped again (the chargers' port is not left open)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        options = {**entry.options, CONF_SERVE_API: True, CONF_API_PORT: port}
        hass.config_entries.async_update_entry(entry, options=options)
        assert not await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_RETRY
        assert entry.reason is not None
        assert str(port) in entry.reason
        assert not port_answers(entry.data["port"])
    assert await hass.config_entries.async_unload(entry.entry_id)
