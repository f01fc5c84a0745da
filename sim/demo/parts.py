"""Starting the demo's processes: the broker, the Modbus->MQTT bridge and the local site."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .broker import Broker, start_broker
from .configs import Ports, modbus_meter, site_config, write_yaml
from .procs import Children, StartupError
from .site_api import SiteApi

if TYPE_CHECKING:
    from .app import Options


def tool(name: str) -> str:
    """A console script of this venv (eflux-local, eflux-bridge, eflux-backend, hass)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise StartupError(f"{name} is not installed in {path.parent} (run scripts/bootstrap)")
    return str(path)


def module(name: str) -> list[str]:
    """Run a module of this checkout with this interpreter (the demo runs from the repo root)."""
    return [sys.executable, "-m", name]


async def broker(children: Children, options: Options) -> Broker:
    return await start_broker(children, options.workdir, embedded=options.embedded_broker)


async def bridge(children: Children, options: Options, ports: Ports) -> dict[str, Any]:
    """The meter settings the local site uses to read the grid meter."""
    return modbus_meter(ports)


async def local_site(
    children: Children, options: Options, ports: Ports, meter: dict[str, Any]
) -> SiteApi:
    config = write_yaml(
        options.workdir / "site" / "site.yaml", site_config(options.scenario, ports, meter)
    )
    api = SiteApi(f"http://127.0.0.1:{ports.api}")
    await children.start(
        "eflux-local",
        [*module("custom_components.eflux.core.runner"), "--config", str(config)],
        ready=api.answers,
    )
    return api
