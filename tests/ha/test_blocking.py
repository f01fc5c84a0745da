"""No file is read in HA's event loop: ocpp schemas at a charger's first messages, meter
profiles in the flow and at setup (HA's own blocking-call detection).

HA's own detector (`homeassistant.block_async_io`) skips `open` under tests, so this test
watches file opens with a Python audit hook instead, keeping those made on the loop's thread.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ocpp.messages
import pytest
from homeassistant import block_async_io
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util.loop import protect_loop
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.eflux.const import (
    CONF_ACCEPT_NEW,
    CONF_FUSE_AMPS,
    CONF_HOST,
    CONF_MARGIN_AMPS,
    CONF_MODBUS_PORT,
    CONF_PHASES,
    CONF_PORT,
    CONF_PROFILE,
    CONF_UNIT_ID,
    DOMAIN,
)
from custom_components.eflux.core.meters.profile import _load_file, load_profile
from sim.modbus_meter import ModbusMeterSim
from tests.support.ports import LOOPBACK, free_port

from .conftest import SimFactory

SCHEMAS = str(Path(ocpp.messages.__file__).parent)


class OpenWatch:
    """Files opened on one thread while watching (an audit hook cannot be removed: it idles)."""

    def __init__(self) -> None:
        self.thread: int | None = None
        self.opened: list[str] = []
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "open" and self.thread == threading.get_ident() and isinstance(args[0], str):
            self.opened.append(args[0])


_WATCH = OpenWatch()


@pytest.fixture
def loop_opens() -> Iterator[list[str]]:
    """Schema files opened on this (the event loop's) thread; the ocpp library's schema
    cache starts empty, as in a fresh HA process."""
    ocpp.messages._validators.clear()
    _WATCH.opened.clear()
    _WATCH.thread = threading.get_ident()
    yield _WATCH.opened
    _WATCH.thread = None


async def test_a_first_charger_message_reads_no_schema_in_the_loop(
    hass: HomeAssistant, loop_opens: list[str], entry: MockConfigEntry, make_sim: SimFactory
) -> None:
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    sim = await make_sim("CP-1")  # boot, status, and the central system's configuration
    await sim.plug_in("CARD-1")  # authorize, start transaction, charging profiles
    assert "CP-1" in entry.runtime_data.site.state().chargers
    await sim.unplug()
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert [p for p in loop_opens if p.startswith(SCHEMAS) and p.endswith(".json")] == []


@pytest.fixture
def ha_detector(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """HA's own blocking-call detection as it runs in a real Home Assistant: the calls it
    skips under tests (open, Path.read_text, os.scandir that Path.glob uses, ...) are wrapped
    with its `protect_loop` for this test too (warnings, as in production)."""
    caplog.set_level(logging.DEBUG, logger="homeassistant.util.loop")
    loop_thread = threading.get_ident()
    patched = [c for c in block_async_io._BLOCKING_CALLS if c.skip_for_tests]
    for call in patched:
        protected = protect_loop(
            call.original_func,
            strict=False,
            strict_core=call.strict_core,
            check_allowed=call.check_allowed,
            loop_thread_id=loop_thread,
        )
        setattr(call.object, call.function, protected)
    try:
        yield caplog
    finally:
        for call in patched:
            setattr(call.object, call.function, call.original_func)


def _ours(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Blocking calls HA reported in our integration (or in core/ under it)."""
    return [
        r.getMessage().splitlines()[0]
        for r in caplog.records
        if "blocking call" in r.getMessage() and "eflux" in r.getMessage()
    ]


async def test_the_detector_sees_a_profile_read_on_the_loop(
    hass: HomeAssistant, ha_detector: pytest.LogCaptureFixture
) -> None:
    """The test's own check: reading a profile on the loop is reported (as it was before)."""
    _load_file.cache_clear()
    load_profile("sdm630")
    assert any("read_text" in line for line in _ours(ha_detector))


async def test_the_modbus_flow_and_setup_read_no_file_on_the_loop(
    hass: HomeAssistant, config_dir: Path, ha_detector: pytest.LogCaptureFixture
) -> None:
    sim = ModbusMeterSim("sdm630", {"current_l1": 5.0, "voltage_l1": 230.0})
    _load_file.cache_clear()  # a fresh process: no profile read yet (the meter's own is done)
    port = free_port()
    await sim.start_tcp(LOOPBACK, port)
    try:
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        flow_id = result["flow_id"]
        await hass.config_entries.flow.async_configure(
            flow_id, {CONF_PORT: free_port(), CONF_ACCEPT_NEW: True}
        )
        await hass.config_entries.flow.async_configure(
            flow_id, {CONF_PHASES: "3", CONF_FUSE_AMPS: 25, CONF_MARGIN_AMPS: 1}
        )
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"next_step_id": "meter_modbus"}
        )
        profiles = result["data_schema"].schema[CONF_PROFILE].config["options"]
        assert "sdm630" in profiles
        meter = {CONF_HOST: LOOPBACK, CONF_MODBUS_PORT: port, CONF_UNIT_ID: 1}
        result = await hass.config_entries.flow.async_configure(
            flow_id, {**meter, CONF_PROFILE: "sdm630"}
        )
        assert result["step_id"] == "cloud"
        _load_file.cache_clear()  # setup reads the profile again, as after a restart
        result = await hass.config_entries.flow.async_configure(flow_id, {})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
        entry = result["result"]
        assert entry.runtime_data.site.config.meters[0].kind == "modbus_tcp"
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
    finally:
        await sim.stop()
    assert _ours(ha_detector) == []
