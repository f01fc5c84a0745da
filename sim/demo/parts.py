"""Starting the demo's processes: the broker, the Modbus->MQTT bridge and the local site."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .broker import Broker, start_broker
from .configs import Ports, bridge_config, mqtt_meter, site_config, write_yaml
from .procs import Children, StartupError
from .site_api import SiteApi, SiteApiError

if TYPE_CHECKING:
    from .app import Options


def tool_argv(name: str) -> list[str]:
    """A console script of this venv (eflux-backend, hass)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise StartupError(f"{name} is not installed in {path.parent} (run scripts/bootstrap)")
    return [str(path)]


def module(name: str) -> list[str]:
    """Run a module of this checkout with this interpreter (the demo runs from the repo root)."""
    return [sys.executable, "-m", name]


async def broker(children: Children, options: Options) -> Broker:
    return await start_broker(children, options.workdir, embedded=options.embedded_broker)


async def bridge(children: Children, options: Options, ports: Ports) -> dict[str, Any]:
    """Start the Modbus -> MQTT bridge; the meter settings the local site reads it with.
    Ready once it polled the meter: the local site waits for its first reading (`site_meter`)."""
    config = write_yaml(
        options.workdir / "bridge" / "bridge.yaml", bridge_config(options.scenario, ports)
    )
    await children.start(
        "eflux-bridge", [*module("mqtt_bridge"), "--config", str(config)], timeout_s=20
    )
    return mqtt_meter(ports)


async def local_site(
    children: Children,
    options: Options,
    ports: Ports,
    meter: dict[str, Any],
    cloud: dict[str, str] | None = None,
) -> SiteApi:
    config = write_yaml(
        options.workdir / "site" / "site.yaml", site_config(options.scenario, ports, meter, cloud)
    )
    api = SiteApi(f"http://127.0.0.1:{ports.api}")
    await children.start(
        "eflux-local",
        [*module("custom_components.eflux.core.runner"), "--config", str(config)],
        ready=api.answers,
    )
    await _meter_ok(children, api)
    return api


async def _meter_ok(children: Children, api: SiteApi, timeout_s: float = 20.0) -> None:
    """The whole meter path works: Modbus -> bridge -> MQTT -> the site's meter is `ok`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    quality = "none"
    while loop.time() < deadline:
        with contextlib.suppress(SiteApiError):
            meters = (await api.site())["meters"]
            quality = meters[0]["quality"] if meters else "none"
            if quality == "ok":
                return
        await asyncio.sleep(0.2)
    bridge = next((c for c in children.started if c.name == "eflux-bridge"), None)
    tail = bridge.tail() if bridge is not None else ""
    raise StartupError(
        f"the local site has no good grid meter reading after {timeout_s:.0f} s "
        f"(quality {quality}; the bridge's log:)\n{tail}"
    )
