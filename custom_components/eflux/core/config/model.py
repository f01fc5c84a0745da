"""The parsed site.yaml: everything the standalone runner (or HA) needs to run a site.

Plain frozen dataclasses; `parse.py` builds them from YAML with errors that name the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..balancing import Mode, Site
from ..central import CentralConfig
from ..planning.flexibility import FlexibilityTariff
from ..planning.tariff import Tariff
from .cloud import CloudSettings
from .console import ConsoleSettings

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
EXTERNAL = "external"  # a meter kind fed from outside (`ExternalMeterSource.push`)


@dataclass(frozen=True, slots=True)
class ChargerBinding:
    """Where a balanced charger lives in OCPP: charge point id and connector (1 = the first)."""

    charge_point_id: str
    connector_id: int = 1
    # What this charge point falls back to by itself when the controller stops renewing its
    # ChargePointMaxProfile (it has its max_current_a until then). None: its safe_current_a.
    safe_limit_a: float | None = None
    # False: monitor-only - shown, commanded (start/stop, OCPP), its draw counted on its
    # circuits, but never given a charging profile by the balancer (site.yaml `managed`).
    managed: bool = True


@dataclass(frozen=True, slots=True)
class CarProfile:
    """A car: the one usually parked at a charger, or the one a card names (`CardProfile`);
    what the planner needs when the driver says less."""

    battery_kwh: float | None = None
    max_power_kw: float | None = None  # AC, what the car's on-board charger takes
    efficiency: float = 0.9
    name: str = ""
    phases: int | None = None  # 1 or 3 (None: as many as the charger has)
    target_soc: float | None = None  # percent, when the driver states none
    # Usual departure per weekday (0 = Monday), local time "HH:MM" of the site's timezone.
    departures: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class CardProfile:
    """A charge card (RFID id tag) that names its driver and car (site.yaml `cards`, the local
    API, the cloud's card vehicle): a session started with it plans with that car."""

    id_tag: str
    driver: str = ""
    car: CarProfile | None = None


@dataclass(frozen=True, slots=True)
class CapacityTariff:
    """Keep the 15-minute average import of `circuit` under `target_kw` (Belgium's capacity
    tariff); the target rises only when a car would otherwise miss its departure."""

    circuit: str
    target_kw: float


@dataclass(frozen=True, slots=True)
class PlannerSettings:
    household_margin_a: float = 2.0  # added to the household forecast of every quarter-hour
    history_weeks: int = 4  # the forecast is the median of this many weeks
    phase_switch_interval: timedelta = timedelta(minutes=5)  # at most one 1p/3p switch per
    phase_switch_grace: timedelta = timedelta(minutes=1)  # no switch in a session's first
    capacity_tariff: CapacityTariff | None = None
    timezone: str | None = None  # IANA name: the cars' usual departures are local times
    history_db: Path | None = None  # the site's SQLite (household history); None: memory only


@dataclass(frozen=True, slots=True)
class MeterConfig:
    """A meter measuring one circuit. `kind` "external" is fed from outside (HA sensors,
    `ExternalMeterSource.push`); other kinds are built by `core.meters` from `options` (the
    entry as written, without `circuit`)."""

    name: str
    circuit: str
    kind: str
    timeout_s: float = 10.0
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class ControllerSettings:
    # How long a charger keeps its normal maximum without hearing from the controller before
    # its ChargePointMaxProfile drops it to the safe limit; renewed at half of it. Chargers keep
    # that profile in flash: 30 min means ~48 writes a day (~17,500 a year, well within flash
    # endurance) while a dead controller leaves a charger unwatched for 30 min at most.
    safe_limit_valid_for: timedelta = timedelta(minutes=30)
    # How often the timer looks at the clock (deadlines: stale meters, delays, retries).
    tick_s: float = 0.25
    # A failed limit is sent again after this long (or at once when the charger reconnects).
    retry_after: timedelta = timedelta(seconds=10)
    planner_interval: timedelta = timedelta(minutes=15)
    # Id tag for RemoteStartTransaction from the app/API ("start charging").
    start_id_tag: str = "EFLUX-LOCAL"
    # Mode per charger at start (None or absent: the site's default mode).
    modes: Mapping[str, Mode] = field(default_factory=lambda: MappingProxyType({}))
    # The price per kWh the planner prefers cheap hours by (site.yaml `tariff:`); prices pushed
    # at runtime (`Controller.push_prices`) override it for the hours they cover.
    tariff: Tariff | None = None
    planner: PlannerSettings = field(default_factory=PlannerSettings)
    # Cards by id tag that name a driver and a car.
    cards: Mapping[str, CardProfile] = field(default_factory=lambda: MappingProxyType({}))
    # The flexibility-discount price per balanced charger (site.yaml `chargers[].flexibility`):
    # what a stay costs, cheaper the longer the driver says the car stays. Absent: no price.
    flexibility: Mapping[str, FlexibilityTariff] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # Cars that ignore their limit (docs/load-balancing.md): drawing more than their limit +
    # `overdraw_tolerance_a` for longer than `overdraw_grace` they are counted at their draw
    # and warned about; still so after `overdraw_pause_after`, paused. And while a meter is
    # silent, its circuit counts the highest household seen over `meter_loss_window`.
    # None: the balancer's default (balancing.Tuning: 1 A, 30 s, 2 min, 15 min).
    overdraw_tolerance_a: float | None = None
    overdraw_grace: timedelta | None = None
    overdraw_pause_after: timedelta | None = None
    meter_loss_window: timedelta | None = None


@dataclass(frozen=True, slots=True)
class ApiSettings:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8088
    token: str | None = None  # required when `host` is not a loopback address
    # Names (besides loopback names and IP literals) a client may reach the API by, as sent in
    # the Host header (runner/guard.py refuses any other: DNS rebinding).
    allowed_hosts: tuple[str, ...] = ()

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS


@dataclass(frozen=True, slots=True)
class SiteConfig:
    central: CentralConfig
    site: Site
    bindings: Mapping[str, ChargerBinding]  # balanced charger id -> OCPP place
    cars: Mapping[str, CarProfile]  # balanced charger id -> usual car
    meters: tuple[MeterConfig, ...] = ()
    controller: ControllerSettings = field(default_factory=ControllerSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    source: Path | None = None  # the file it was read from
    timezone: str | None = None  # IANA name (site.yaml `timezone:`): the tariff's local time
    console: ConsoleSettings = field(default_factory=ConsoleSettings)  # runner/console
    cloud: CloudSettings | None = None  # the runner's cloud account (HA: its config entry)
