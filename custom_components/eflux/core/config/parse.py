"""site.yaml -> `SiteConfig`, refusing anything unclear with the file, the key and the reason.

The site's semantics (tree, phases, limits) are checked by `balancing.compile_site`; this module
checks types, names and cross references, and turns relative paths into ones next to the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from ..balancing import (
    ALL_PHASES,
    Charger,
    Circuit,
    MeterLossPolicy,
    Mode,
    Phase,
    Site,
    SiteConfigError,
    Tuning,
    compile_site,
)
from ..central import AuthorizationSettings, CentralConfig
from ..errors import ConfigError
from ..planning.flexibility import FlexibilityTariff
from ..planning.tariff import Tariff
from .cards import parse_cards
from .central_limits import parse_cost, parse_rate_limit
from .cloud import parse_cloud
from .console import console_refusal, parse_console
from .flexibility import parse_flexibility
from .model import (
    EXTERNAL,
    ApiSettings,
    CarProfile,
    ChargerBinding,
    ControllerSettings,
    MeterConfig,
    SiteConfig,
)
from .planner import parse_card_profiles, parse_planner
from .reader import Section, phase_amps
from .security import parse_security
from .tariff import parse_tariff, parse_timezone

MAX_CONFIG_BYTES = 1_000_000
_PHASES = {"L1": Phase.L1, "L2": Phase.L2, "L3": Phase.L3}


def load_site_config(path: Path | str) -> SiteConfig:
    """Read and validate a site.yaml; every problem is a `ConfigError` naming the file."""
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ConfigError("(file)", f"cannot be read: {err.strerror or err}", name) from err
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError("(file)", f"larger than {MAX_CONFIG_BYTES} bytes", name)
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ConfigError("(file)", "is not UTF-8 text", name) from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError("(file)", f"not valid YAML: {where}{problem}", name) from err
    try:
        return parse_site_config(data, base_dir=path.parent, source=path)
    except ConfigError as err:
        raise err.in_file(name) from err


def parse_site_config(
    data: Any, *, base_dir: Path = Path(), source: Path | None = None
) -> SiteConfig:
    top = Section(data, "")
    meters = tuple(_meter(item, i) for i, item in enumerate(top.items("meters")))
    metered = {meter.circuit for meter in meters}
    circuits = tuple(_circuit(item, i, metered) for i, item in enumerate(top.items("circuits")))
    known = {c.id for c in circuits}
    for meter in meters:
        if meter.circuit not in known:
            raise ConfigError(f"meters[{meter.name}].circuit", f"unknown circuit {meter.circuit!r}")
    chargers: list[Charger] = []
    bindings: dict[str, ChargerBinding] = {}
    cars: dict[str, CarProfile] = {}
    modes: dict[str, Mode] = {}
    flexibility: dict[str, FlexibilityTariff] = {}
    for i, item in enumerate(top.items("chargers")):
        charger, binding, car, mode, flex = _charger(item, i)
        chargers.append(charger)
        bindings[charger.id] = binding
        cars[charger.id] = car
        if mode is not None:
            modes[charger.id] = mode
        if flex is not None:
            flexibility[charger.id] = flex
    _unique_bindings(bindings)
    site = _site(top.section("site"), circuits, tuple(chargers))
    try:
        compile_site(site)
    except SiteConfigError as err:
        raise ConfigError(err.key, err.reason) from err
    central = _central(top.section("central"), base_dir, bindings)
    timezone = parse_timezone(top)
    tariff = parse_tariff(top.section("tariff"), timezone)
    controller = _controller(top.section("controller"), modes, tariff, flexibility)
    planner = parse_planner(top.section("planner"), known, timezone, central.db_path)
    controller = replace(controller, planner=planner, cards=parse_card_profiles(top))
    api = _api(top.section("api"))
    console = parse_console(top, base_dir, served=api.enabled)
    if api.enabled and (refusal := console_refusal(console, api.loopback, api.host)):
        raise ConfigError("console.password", refusal)
    cloud = parse_cloud(top.section("cloud"), base_dir)
    top.done()
    return SiteConfig(
        central=central,
        site=site,
        bindings=MappingProxyType(bindings),
        cars=MappingProxyType(cars),
        meters=meters,
        controller=controller,
        api=api,
        source=source,
        timezone=timezone,
        console=console,
        cloud=cloud,
    )


def _circuit(item: Any, index: int, metered: set[str]) -> Circuit:
    sec = Section(item, f"circuits[{index}]")
    ident = sec.text("id")
    sec.key = f"circuits[{ident}]"
    limit = phase_amps(sec.raw("limit_a"), sec.path("limit_a"))
    fallback = sec.raw("fallback_budget_a", None)
    circuit = Circuit(
        id=ident,
        limit_a=limit,
        parent=sec.text("parent", None),
        name=sec.text("name", ""),
        margin_a=sec.number("margin_a", 0.0, low=0.0),
        total_limit_a=sec.number("total_limit_a", None, low=0.0),
        metered=ident in metered,
        meter_includes_chargers=sec.flag("meter_includes_chargers", True),
        on_meter_loss=sec.enum("on_meter_loss", MeterLossPolicy, MeterLossPolicy.SAFE_LIMIT),
        fallback_budget_a=(
            None if fallback is None else phase_amps(fallback, sec.path("fallback_budget_a"))
        ),
    )
    sec.done()
    return circuit


def _charger(
    item: Any, index: int
) -> tuple[Charger, ChargerBinding, CarProfile, Mode | None, FlexibilityTariff | None]:
    sec = Section(item, f"chargers[{index}]")
    ident = sec.text("id")
    sec.key = f"chargers[{ident}]"
    charger = Charger(
        id=ident,
        circuit=sec.text("circuit"),
        wiring=_wiring(sec.raw("wiring", None), sec.path("wiring")),
        min_current_a=sec.number("min_current_a", 6.0),
        max_current_a=sec.number("max_current_a", 16.0),
        priority=sec.integer("priority", 0),
        can_switch_phases=sec.flag("can_switch_phases", False),
        safe_current_a=sec.number("safe_current_a", 6.0),
        name=sec.text("name", ""),
    )
    binding = ChargerBinding(
        charge_point_id=sec.text("charge_point", ident),
        connector_id=sec.integer("connector", 1, low=1),
        safe_limit_a=sec.number("safe_limit_a", None, low=0.0),
        managed=sec.flag("managed", True),
    )
    car = CarProfile(
        battery_kwh=sec.number("battery_kwh", None, low=1.0, high=1000.0),
        max_power_kw=sec.number("max_power_kw", None, low=1.0, high=1000.0),
        efficiency=sec.number("efficiency", 0.9, low=0.1, high=1.0),
    )
    mode = sec.enum("mode", Mode, None)
    flexibility = parse_flexibility(sec.section("flexibility"))
    sec.done()
    return charger, binding, car, mode, flexibility


def _wiring(value: Any, key: str) -> tuple[Phase, ...]:
    if value is None:
        return ALL_PHASES
    items = value if isinstance(value, list) else [value]
    phases = []
    for i, item in enumerate(items):
        phase = _PHASES.get(str(item).strip().upper())
        if phase is None:
            raise ConfigError(f"{key}[{i}]", f"must be L1, L2 or L3, got {item!r}")
        phases.append(phase)
    return tuple(phases)


def _unique_bindings(bindings: Mapping[str, ChargerBinding]) -> None:
    seen: dict[tuple[str, int], str] = {}
    for ident, binding in bindings.items():
        place = (binding.charge_point_id, binding.connector_id)
        if place in seen:
            raise ConfigError(
                f"chargers[{ident}].connector",
                f"connector {binding.connector_id} of {binding.charge_point_id!r} is already"
                f" charger {seen[place]!r}",
            )
        seen[place] = ident


def _meter(item: Any, index: int) -> MeterConfig:
    """A meter: `circuit` and the settings of `core.meters` (`kind: external` is fed from
    outside, e.g. Home Assistant sensors, and takes only name, timeout and fuse_a)."""
    sec = Section(item, f"meters[{index}]")
    name = sec.text("name")
    sec.key = f"meters[{name}]"
    kind = sec.text("kind")
    options = {k: v for k, v in sec.data.items() if k != "circuit"}
    meter = MeterConfig(
        name=name,
        circuit=sec.text("circuit"),
        kind=kind,
        timeout_s=sec.number("timeout", 10.0, low=0.1, high=86400.0),
        options=MappingProxyType(options),
    )
    if kind == EXTERNAL:
        sec.number("fuse_a", None, low=1.0)
        sec.done()
    else:
        _check_meter_options(options, sec.key)
    return meter


def _check_meter_options(options: Mapping[str, Any], key: str) -> None:
    from ..meters.config import parse_meter_config
    from ..meters.errors import MeterConfigError

    try:
        parse_meter_config(options, where="")
    except MeterConfigError as err:
        raise ConfigError(f"{key}.{err.key}", err.reason) from err


def _site(sec: Section, circuits: tuple[Circuit, ...], chargers: tuple[Charger, ...]) -> Site:
    static = sec.raw("static_budget_a", None)
    site = Site(
        circuits=circuits,
        chargers=chargers,
        default_mode=sec.enum("default_mode", Mode, Mode.DYNAMIC),
        static_budget_a=None if static is None else phase_amps(static, sec.path("static_budget_a")),
        voltage_v=sec.number("voltage_v", 230.0, low=100.0, high=400.0),
        pv_reserve_a=sec.number("pv_reserve_a", 0.0, low=0.0),
        tuning=_tuning(sec.section("tuning")),
    )
    sec.done()
    return site


def _tuning(sec: Section) -> Tuning:
    base = Tuning()

    def seconds(name: str, default: timedelta) -> timedelta:
        return timedelta(seconds=sec.number(f"{name}_s", default.total_seconds(), low=0.0))

    ramp = sec.raw("ramp_step_a", base.ramp_step_a)
    tuning = Tuning(
        hysteresis_a=sec.number("hysteresis_a", base.hysteresis_a, low=0.0),
        min_change_interval=seconds("min_change_interval", base.min_change_interval),
        ramp_step_a=(
            None if ramp == "none" else sec.number("ramp_step_a", base.ramp_step_a, low=0.1)
        ),
        start_delay=seconds("start_delay", base.start_delay),
        stop_delay=seconds("stop_delay", base.stop_delay),
        rotation_interval=seconds("rotation_interval", base.rotation_interval),
        max_wait=_max_wait(sec, base.max_wait),
        phase_switch_delay=seconds("phase_switch_delay", base.phase_switch_delay),
    )
    sec.done()
    return tuning


def _max_wait(sec: Section, default: timedelta | None) -> timedelta | None:
    """`max_wait_s`: 0 turns the owed turn off."""
    fallback = 0.0 if default is None else default.total_seconds()
    value = sec.number("max_wait_s", fallback, low=0.0)
    return timedelta(seconds=value) if value > 0 else None


def _central(sec: Section, base_dir: Path, bindings: Mapping[str, ChargerBinding]) -> CentralConfig:
    base = CentralConfig()
    db = sec.text("db_path", "eflux_central.sqlite")
    auth = AuthorizationSettings(free_charging=sec.flag("free_charging", False), **parse_cards(sec))
    known = frozenset(b.charge_point_id for b in bindings.values())
    config = CentralConfig(
        host=sec.text("host", base.host),
        port=sec.integer("port", base.port, low=0),
        known_charge_points=known,
        db_path=base_dir / db,
        heartbeat_interval=sec.integer("heartbeat_interval_s", base.heartbeat_interval, low=10),
        meter_sample_interval=sec.integer(
            "meter_sample_interval_s", base.meter_sample_interval, low=1
        ),
        authorization=auth,
        **parse_security(sec, base_dir),
        rate_limit=parse_rate_limit(sec.section("rate_limit")),
        **parse_cost(sec),
    )
    if config.port > 65535:
        raise ConfigError(sec.path("port"), f"must be ≤ 65535, got {config.port}")
    sec.done()
    return config


def _controller(
    sec: Section,
    modes: Mapping[str, Mode],
    tariff: Tariff | None,
    flexibility: Mapping[str, FlexibilityTariff],
) -> ControllerSettings:
    base = ControllerSettings()
    settings = ControllerSettings(
        safe_limit_valid_for=timedelta(
            seconds=sec.number(
                "safe_limit_valid_for_s", base.safe_limit_valid_for.total_seconds(), low=60.0
            )
        ),
        planner_interval=timedelta(
            seconds=sec.number(
                "planner_interval_s", base.planner_interval.total_seconds(), low=10.0
            )
        ),
        start_id_tag=sec.text("start_id_tag", base.start_id_tag),
        overdraw_tolerance_a=sec.number("overdraw_tolerance_a", None, low=0.0),
        overdraw_grace=_optional_seconds(sec, "overdraw_grace_s"),
        overdraw_pause_after=_optional_seconds(sec, "overdraw_pause_after_s"),
        meter_loss_window=_optional_seconds(sec, "meter_loss_window_s"),
        modes=MappingProxyType(dict(modes)),
        tariff=tariff,
        flexibility=MappingProxyType(dict(flexibility)),
    )
    sec.done()
    return settings


def _optional_seconds(sec: Section, key: str) -> timedelta | None:
    seconds = sec.number(key, None, low=0.0)
    return None if seconds is None else timedelta(seconds=seconds)


def _api(sec: Section) -> ApiSettings:
    base = ApiSettings()
    settings = ApiSettings(
        enabled=sec.flag("enabled", True),
        host=sec.text("host", base.host),
        port=sec.integer("port", base.port, low=0),
        token=sec.text("token", None),
        allowed_hosts=tuple(str(host) for host in sec.items("allowed_hosts")),
    )
    if settings.port > 65535:
        raise ConfigError(sec.path("port"), f"must be ≤ 65535, got {settings.port}")
    if settings.enabled and not settings.loopback and not settings.token:
        raise ConfigError(sec.path("token"), f"required when the API listens on {settings.host}")
    if settings.token is not None and len(settings.token) < 16:
        raise ConfigError(sec.path("token"), "must be at least 16 characters")
    sec.done()
    return settings
