"""No ocpp schema file is read in HA's event loop when a charger sends its first messages.

HA's own detector (`homeassistant.block_async_io`) skips `open` under tests, so this test
watches file opens with a Python audit hook instead, keeping those made on the loop's thread.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ocpp.messages
import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

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
