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


@dataclass(frozen=True, slots=True)
class CarProfile:
    """The car usually parked at a charger: what the planner needs when the driver says less."""

    battery_kwh: float | None = None
    max_power_kw: float | None = None
    efficiency: float = 0.9


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
    # The flexibility-discount price per balanced charger (site.yaml `chargers[].flexibility`):
    # what a stay costs, cheaper the longer the driver says the car stays. Absent: no price.
    flexibility: Mapping[str, FlexibilityTariff] = field(
        default_factory=lambda: MappingProxyType({})
    )


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
