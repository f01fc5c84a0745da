"""Settings of the local central system (what the HA config flow or the runner fills in)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from ..domain import Card
from .ratelimit import RateLimit

# What a load balancer needs per phase, plus SoC when the car shares it. Chargers that reject
# part of the list get the shorter fallbacks (see configure.py).
DEFAULT_MEASURANDS: tuple[str, ...] = (
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Current.Import",
    "Current.Offered",
    "Voltage",
    "SoC",
)


@dataclass(frozen=True, slots=True)
class AuthorizationSettings:
    """How cards are judged before (or without) the cloud's local list.

    `free_charging` accepts any card that is not on the local list as blocked/lost/expired
    (a home charger); `cards` are id tags accepted from the configuration. The remote
    authorizer (cloud) is asked for other cards with a short timeout; its answers are cached.
    """

    free_charging: bool = False
    cards: frozenset[str] = frozenset()
    # Cards with a status, expiry or group of their own (site.yaml `central.cards` entries).
    card_entries: tuple[Card, ...] = ()
    # Cards whose group is this one are master passes: they may stop any session (2.0.1
    # AuthCtrlr.MasterPassGroupId; on 1.6 the central system stops the sessions itself).
    master_pass_group: str | None = None
    remote_timeout: float = 2.0
    remote_cache_ttl: timedelta = timedelta(hours=12)
    remote_negative_ttl: timedelta = timedelta(minutes=5)
    # Expiry handed to chargers in idTagInfo for accepted cards without one of their own.
    accepted_for: timedelta = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class CentralConfig:
    host: str = "0.0.0.0"  # noqa: S104 - chargers live on the LAN
    port: int = 9000  # 0 picks a free port (tests)
    accept_new_chargers: bool = False
    # "pending": chargers neither configured nor approved connect but boot Pending until
    # approved (admission.py); otherwise accept_new_chargers decides (all / listed only).
    boot_policy: str = ""
    # Under "pending": at most this many new chargers wait for approval at once; the boot of
    # any further unknown id is Rejected (a flood of made-up ids cannot fill the approvals).
    max_pending_chargers: int = 50
    known_charge_points: frozenset[str] = frozenset()
    # Security profile 1: HTTP basic auth per charge point (username = charge point id).
    passwords: Mapping[str, str] = field(default_factory=dict)
    # Reject charge points without a password above (profile 1 everywhere).
    require_password: bool = False
    # Security profile 2: TLS with this certificate chain and key.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # Security profile 3: client certificates signed by this CA (PEM), subject CN = the charge
    # point id. Optional per charger unless required (then TLS refuses chargers without one);
    # a charger with a valid certificate needs no password.
    tls_client_ca: Path | None = None
    require_client_certificate: bool = False
    heartbeat_interval: int = 300
    meter_sample_interval: int = 10
    measurands: tuple[str, ...] = DEFAULT_MEASURANDS
    call_timeout: float = 30.0
    db_path: Path = Path("eflux_central.sqlite")
    authorization: AuthorizationSettings = field(default_factory=AuthorizationSettings)
    # Websocket keepalive: some wallboxes drop sockets idle for 30-45 s; OCPP wants < 90 s.
    ping_interval: float = 25.0
    ping_timeout: float = 20.0
    max_frame_bytes: int = 64 * 1024
    # CALLs a charger may send: a burst, then a rate; what happens beyond (ratelimit.py).
    rate_limit: RateLimit = field(default_factory=RateLimit)
    # 2.0.1 costs on the charger's display (cost.py): prices are in this currency; CostUpdated
    # every this many seconds during a session (0: only the total at the end).
    currency: str = "EUR"
    cost_update_interval: float = 900.0
    # jsonschema validation inline (default) or in a worker thread as the ocpp library does.
    validate_in_thread: bool = False
    # Used when a charger only takes limits in W: W = A x phases x this.
    nominal_voltage: float = 230.0
    # Stack level of our Tx/TxDefault profiles (0 stays free for installer defaults); capped by
    # the charger's ChargeProfileMaxStackLevel and by quirks.
    profile_stack_level: int = 1
    # Closed transactions keep one meter sample per bucket.
    sample_bucket: timedelta = timedelta(minutes=5)
    maintenance_interval: float = 3600.0
    # How often open reservations are checked for expiry (1.6 chargers never tell).
    reservation_check_interval: float = 1.0
