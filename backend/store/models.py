"""Records of the platform as the store returns them (frozen; times aware UTC; money in cents)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class AccountKind(StrEnum):
    CONSUMER = "consumer"
    BUSINESS = "business"
    LEASE_DRIVER = "lease_driver"
    LOCATION_OWNER = "location_owner"


class Role(StrEnum):
    CUSTOMER = "customer"
    ADMIN = "admin"


class CardStatus(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    LOST = "lost"
    EXPIRED = "expired"


class CardKind(StrEnum):
    SUBSCRIPTION = "subscription"
    PREPAID = "prepaid"


class SessionSource(StrEnum):
    OWN_NETWORK = "own_network"
    ROAMING = "roaming"


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    kind: AccountKind
    name: str
    email: str | None
    address: str | None
    iban: str | None
    vat_number: str | None
    prepaid_balance_cents: int
    erased_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class User:
    id: int
    account_id: int
    email: str
    name: str | None
    role: Role
    disabled: bool
    created_at: datetime

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid API token speaks for: a user, or a site (a local installation)."""

    token_id: int
    account_id: int
    user: User | None = None
    site_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.user is not None and self.user.is_admin


@dataclass(frozen=True, slots=True)
class Site:
    id: int
    account_id: int
    name: str
    address: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Tariff:
    """Start fee + per kWh + per minute, in cents (fractions of a cent allowed)."""

    id: int
    account_id: int | None
    name: str
    start_cents: Decimal
    per_kwh_cents: Decimal
    per_minute_cents: Decimal
    basis: str  # incl_vat or excl_vat (backend.billing.money.Basis)
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ChargePoint:
    id: int
    account_id: int
    site_id: int | None
    ocpp_id: str
    name: str
    location: str | None
    guest_usage: bool
    tariff_id: int | None
    fast: bool
    created_at: datetime
    max_power_kw: float | None = None  # None: 22 kW, or 350 kW for a DC fast charger


@dataclass(frozen=True, slots=True)
class CardRecord:
    id: int
    uid: str
    account_id: int | None
    kind: CardKind
    status: CardStatus
    label: str | None
    expires_at: datetime | None
    version: int
    created_at: datetime
    roaming_authorized: bool = False  # billed to its owner at charge points closed to guests


@dataclass(frozen=True, slots=True)
class CardOrder:
    id: int
    account_id: int
    replaces_card_id: int | None
    reason: str
    fee_cents: int
    fee_basis: str
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: int
    site_id: int | None
    charge_point_id: int | None
    cp_ocpp_id: str
    transaction_id: str
    connector_id: int
    card_id: int | None
    account_id: int | None
    id_tag: str | None
    source: SessionSource
    operator: str | None
    started_at: datetime
    stopped_at: datetime
    energy_wh: int
    meter_start_wh: float
    meter_stop_wh: float
    stop_reason: str | None
    energy_flagged: bool
    start_cents: Decimal
    per_kwh_cents: Decimal
    per_minute_cents: Decimal
    tariff_basis: str
    received_at: datetime
    flag: str | None = None  # "foreign_card": another account's card, billed to nobody
    review: str = "none"  # none, pending, accepted, corrected, rejected (the review queue)
    review_reasons: str = ""  # the plausibility rules it failed, "; "-separated


@dataclass(frozen=True, slots=True)
class Departure:
    id: int
    charge_point_id: int
    site_id: int | None
    connector_id: int
    departure_at: datetime
    car: str | None
    soc_now: float | None
    target_soc: float
    battery_kwh: float | None
    max_power_kw: float | None
    requested_by: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    account_id: int | None
    action: str
    subject: str
    detail: str  # JSON text
