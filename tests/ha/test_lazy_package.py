"""The HA layer loads only when Home Assistant loads the integration.

`eflux-local` and `eflux-bridge` import `custom_components.eflux.core`, which runs the package's
`__init__` too; with Home Assistant installed (it is, here) they must still not import it.
Each case runs in a fresh interpreter, so nothing this test process imported counts.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

REPORT = (
    "import json, sys; "
    "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'homeassistant')))"
)


def _ha_modules_after(code: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\n{REPORT}"], capture_output=True, text=True, check=True
    )
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_home_assistant_is_installed_here() -> None:
    """Otherwise the cases below could not fail."""
    assert importlib.util.find_spec("homeassistant") is not None


@pytest.mark.parametrize(
    "module",
    [
        "custom_components.eflux.core.runtime",
        "custom_components.eflux.core.runner",
        "custom_components.eflux.core.runner.main",
        "mqtt_bridge.cli",
    ],
)
def test_the_core_the_runner_and_the_bridge_load_no_home_assistant(module: str) -> None:
    assert _ha_modules_after(f"import {module}") == []


def test_home_assistant_finds_its_entry_points_and_nothing_else() -> None:
    code = (
        "import homeassistant.core\n"
        "import custom_components.eflux as eflux\n"
        "from custom_components.eflux import entry_setup\n"
        "bound = {k for k in ('async_setup', 'async_setup_entry', 'async_unload_entry',"
        " 'CONFIG_SCHEMA', 'PLATFORMS') if k in vars(eflux)}\n"
        "assert bound == {'async_setup', 'async_setup_entry', 'async_unload_entry',"
        " 'CONFIG_SCHEMA', 'PLATFORMS'}, bound\n"
        "assert eflux.async_setup_entry is entry_setup.async_setup_entry\n"
        "assert not hasattr(eflux, 'async_migrate_entry')\n"
        "assert not hasattr(eflux, 'async_remove_entry')\n"
    )
    assert "homeassistant.core" in _ha_modules_after(code)


def test_an_entry_point_looked_up_later_imports_the_layer_then() -> None:
    code = (
        "import custom_components.eflux.core.runtime\n"
        "import custom_components.eflux as eflux\n"
        "assert 'async_setup_entry' not in vars(eflux)\n"
        "assert callable(eflux.async_setup_entry)\n"
        "assert eflux.PLATFORMS\n"
    )
    assert "homeassistant.core" in _ha_modules_after(code)
