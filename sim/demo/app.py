"""The demo: start every part on loopback, show the live table, judge the fuse, stop everything.

Order: broker -> grid meter (Modbus, in this process) -> bridge -> local site -> chargers.
Any part that fails to start stops the rest and ends the demo with its log's tail and exit 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sim.household import HouseholdProfile, SimClock

from . import parts
from .backend_part import Backend, start_backend
from .cars import DemoCar, holds_plug_in_default, make_cars
from .configs import Ports
from .console_part import DEMO_MANAGER, DEMO_MANAGER_PASSWORD, log_in_manager
from .grid import GridMeter
from .hass_client import HassError
from .hass_part import OWNER, HassSettings, HassSite, start_hass
from .procs import Children, StartupError, free_port
from .report import summary, table
from .scenario import Scenario
from .site_api import SiteApiError, SiteView

TOKEN_FILE = "site-token.txt"
INFO_FILE = "demo.json"
METER_TICK_S = 0.2  # how often the grid meter measures (and the fuse is judged)
TABLE_EVERY_S = 1.0


@dataclass
class Options:
    workdir: Path
    headless: bool = False
    duration_s: float | None = None
    speed: float = 60.0  # household time per real second
    hass: bool = True
    backend: bool = True
    embedded_broker: bool = False
    scenario: Scenario = field(default_factory=Scenario)


@dataclass
class Demo:
    options: Options
    children: Children
    grid: GridMeter | None = None
    cars: list[DemoCar] = field(default_factory=list)
    api: SiteView | None = None
    urls: list[str] = field(default_factory=list)
    backend: Backend | None = None
    extra: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)  # .demo/demo.json: URLs and tokens


def prepare_workdir(workdir: Path) -> None:
    """A fresh work dir for each run (the previous run's databases and logs are replaced)."""
    for sub in ("site", "logs", "backend", "bridge", "ha"):
        shutil.rmtree(workdir / sub, ignore_errors=True)
        (workdir / sub).mkdir(parents=True)


async def run(options: Options) -> int:
    demo = Demo(options, Children(options.workdir / "logs"))
    try:
        prepare_workdir(options.workdir)
        await start(demo)
        print_intro(demo)
        return await watch(demo)
    except StartupError as err:
        print(f"\ndemo: a part failed to start: {err}", file=sys.stderr)
        return 1
    except (OSError, TimeoutError, SiteApiError, HassError) as err:
        print(f"\ndemo: failed: {err!r} (logs in {options.workdir / 'logs'})", file=sys.stderr)
        return 1
    finally:
        await stop(demo)


async def start(demo: Demo) -> None:
    opts, scenario = demo.options, demo.options.scenario
    now = datetime.now(UTC)
    clock = SimClock(scenario.household_start_at(now), opts.speed, running=False)
    ports = Ports(central=free_port(), api=free_port(), modbus=free_port(), mqtt=0)
    broker = await parts.broker(demo.children, opts)
    ports = Ports(ports.central, ports.api, ports.modbus, broker.port)
    demo.extra["broker"] = f"{broker.kind} on {broker.host}:{broker.port}"
    central_url = f"ws://127.0.0.1:{ports.central}"
    demo.cars = make_cars(scenario, central_url, now, speed=1.0)
    profile = HouseholdProfile(timezone=scenario.timezone)
    demo.grid = GridMeter(
        clock,
        [c.metered for c in demo.cars],
        scenario.fuse_a,
        profile,
        margin_a=scenario.margin_a,
    )
    await demo.grid.start(ports.modbus, METER_TICK_S)
    if opts.backend:
        await _backend(demo)
    meter = await parts.bridge(demo.children, opts, ports)
    await _site(demo, ports, meter)
    demo.urls.append(f"OCPP central     {central_url}/<charge point id>")
    demo.urls.append(f"grid meter       modbus://127.0.0.1:{ports.modbus} (SDM630)")
    demo.urls.append(f"MQTT broker      mqtt://{broker.host}:{broker.port} ({broker.kind})")
    demo.info.update(ocpp=central_url, modbus_port=ports.modbus, mqtt_port=ports.mqtt)
    info = opts.workdir / INFO_FILE
    info.write_text(json.dumps(demo.info, indent=2), encoding="utf-8")
    info.chmod(0o600)  # tokens
    assert demo.api is not None
    for car in demo.cars:
        await car.sim.start(wait_s=15.0)
        await demo.api.wait_for_charger(car.spec)
    if isinstance(demo.api, HassSite):
        await demo.api.set_wirings([car.spec for car in demo.cars])
    for car in demo.cars:
        await holds_plug_in_default(car.sim)
        await car.sim.plug_in(car.spec.card)
        await demo.api.set_departure(car.spec, car.departure)


async def _backend(demo: Demo) -> None:
    workdir = demo.options.workdir / "backend"
    backend = await start_backend(demo.children, parts.tool_argv("eflux-backend"), workdir)
    token_file = workdir / TOKEN_FILE
    token_file.write_text(backend.site_token, encoding="utf-8")
    demo.urls.append(f"cloud back end   {backend.url}/api/v1 (site token: {token_file})")
    demo.urls.append(f"payments (sim)   {backend.payments_url} (portal top-ups pay here)")
    for email, password in backend.logins.items():
        demo.urls.append(f"  login          {email} / {password}")
    demo.info["backend"] = {"url": backend.url, "site_token": backend.site_token,
                            "logins": backend.logins}  # fmt: skip
    demo.backend = backend


async def _site(demo: Demo, ports: Ports, meter: dict[str, Any]) -> None:
    """The site runs inside Home Assistant (default) or in the standalone runner."""
    opts = demo.options
    if not opts.hass:
        cloud = None
        if demo.backend is not None:  # eflux-local syncs with the demo back end (site.yaml)
            token_file = opts.workdir / "backend" / TOKEN_FILE
            cloud = {"url": demo.backend.url, "token_file": str(token_file.resolve())}
        demo.api = await parts.local_site(demo.children, opts, ports, meter, cloud)
        demo.urls.append(f"local site API   {demo.api.base}")
        demo.info["local_api"] = demo.api.base
        await _console(demo, demo.api.base)
        return
    settings = HassSettings(
        ocpp_port=ports.central,
        mqtt_port=ports.mqtt,
        cloud_url=demo.backend.url if demo.backend else None,
        cloud_token=demo.backend.site_token if demo.backend else None,
    )
    site = await start_hass(
        demo.children, parts.tool_argv("hass"), opts.workdir / "ha", opts.scenario, settings
    )
    demo.api = site
    demo.urls.append(f"Home Assistant   {site.base}  (login {OWNER[0]} / {OWNER[1]})")
    demo.info["hass"] = {"url": site.base, "username": OWNER[0], "password": OWNER[1],
                         "access_token": site.client.token, "entry_id": site.entry_id}  # fmt: skip
    # The integration serves the local API and the console too (its option, set through the
    # options flow before the chargers connect): the same console as eflux-local's.
    try:
        api = await site.serve_console(ports.api, DEMO_MANAGER_PASSWORD)
    except HassError as err:
        raise StartupError(f"Home Assistant: the console: {err}") from err
    demo.urls.append(f"local site API   {api}  (served by Home Assistant)")
    demo.info["local_api"] = api
    await _console(demo, api)


async def _console(demo: Demo, api_base: str) -> None:
    """The demo manager logs in once (the check that the console answers); its URL and login."""
    console = await log_in_manager(api_base)
    login = f"login {DEMO_MANAGER} / {DEMO_MANAGER_PASSWORD}"
    demo.urls.append(f"console          {console}  ({login}, logged in once to check)")
    demo.info["console"] = {"url": console, "user": DEMO_MANAGER,
                            "password": DEMO_MANAGER_PASSWORD}  # fmt: skip


def print_intro(demo: Demo) -> None:
    print("E-Flux Local demo: all parts running on loopback", flush=True)
    for line in demo.urls:
        print(f"  {line}")
    print(f"  logs and databases in {demo.options.workdir}")
    if not demo.options.headless:
        print("Ctrl-C stops everything.\n", flush=True)


async def watch(demo: Demo) -> int:
    assert demo.grid is not None
    assert demo.api is not None
    opts = demo.options
    tz = ZoneInfo(opts.scenario.timezone)
    loop = asyncio.get_running_loop()
    started = loop.time()
    next_table = started
    plans: Mapping[str, Mapping[str, Any]] = {}
    demo.grid.clock.run()  # the household's day starts now
    demo.grid.power.reset()  # judged from now on, when the site runs
    while opts.duration_s is None or loop.time() - started < opts.duration_s:
        failed = demo.children.failed()
        if failed is not None:
            print(
                f"\ndemo: {failed.name} stopped unexpectedly (log: {failed.log})\n{failed.tail()}"
            )
            return 1
        sample = demo.grid.latest
        if sample is not None and loop.time() >= next_table:
            next_table += TABLE_EVERY_S
            with contextlib.suppress(OSError, ValueError, SiteApiError, HassError):
                plans = await demo.api.chargers()
            if not opts.headless:
                rows = [car.row(plans.get(car.spec.id)) for car in demo.cars]
                house = demo.grid.clock.now().astimezone(tz).strftime("%H:%M")
                wall = datetime.now(tz).strftime("%H:%M:%S")
                clocks = f"{house} (x{opts.speed:g}), cars and plans on the wall clock {wall}"
                text = table(sample, opts.scenario.fuse_a, rows, clocks, tz)
                header = "\n".join(["E-Flux Local demo (Ctrl-C stops everything)", *demo.urls])
                print(f"\x1b[2J\x1b[H{header}\n\n{text}", flush=True)
        await asyncio.sleep(0.1)
    with contextlib.suppress(OSError, ValueError, SiteApiError, HassError):
        plans = await demo.api.chargers()
    with contextlib.suppress(OSError, ValueError, KeyError, SiteApiError, HassError):
        demo.extra.update(await demo.api.describe())
    rows = [car.row(plans.get(car.spec.id)) for car in demo.cars]
    print(summary(demo.grid.record, rows, tz, demo.extra, demo.grid.power), flush=True)
    return 1 if demo.grid.record.exceeded else 0


async def stop(demo: Demo) -> None:
    for car in demo.cars:
        with contextlib.suppress(Exception):
            await car.sim.close()
    if demo.api is not None:
        await demo.api.close()
    if demo.grid is not None:
        await demo.grid.stop()
    await demo.children.stop_all()
