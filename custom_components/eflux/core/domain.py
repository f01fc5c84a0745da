"""The vocabulary shared by the central system, the cloud sync, the planner and the HA layer.

Each subsystem owns its own internals; these types and protocols are where they meet, so that
`central/`, `cloud/` and `planning/` can be built and tested apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol


class CardStatus(StrEnum):
    """Status of a charge card or keyfob, as the cloud keeps it."""

    ACTIVE = "active"
    BLOCKED = "blocked"
    LOST = "lost"
    EXPIRED = "expired"
    INVALID = "invalid"  # known, but not valid here (OCPP Invalid)


class CardKind(StrEnum):
    SUBSCRIPTION = "subscription"
    PREPAID = "prepaid"


@dataclass(frozen=True, slots=True)
class Card:
    """One entry of the local authorization list.

    `may_start` is the cloud's verdict on money matters (a prepaid card below the €10 minimum
    balance cannot start a session) so that the local side never needs prices to decide.
    """

    uid: str
    status: CardStatus
    kind: CardKind = CardKind.SUBSCRIPTION
    expires_at: datetime | None = None
    may_start: bool = True
    # OCPP group (1.6 parentIdTag, 2.0.1 groupIdToken): cards of one group may stop each
    # other's sessions; the site's master-pass group may stop any session.
    group_id: str | None = None

    def accepts_at(self, now: datetime) -> bool:
        """Whether this card may start a session at `now`."""
        if self.status is not CardStatus.ACTIVE or not self.may_start:
            return False
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True, slots=True)
class CardListDelta:
    """Cards changed since `since_version`, up to and including `version` (from the cloud)."""

    since_version: int
    version: int
    cards: tuple[Card, ...]


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A finished session as the site stored it, for its history and exports."""

    charger_id: str | None  # the balanced charger; None when the site no longer balances it
    charge_point_id: str
    connector_id: int
    card: str | None
    started_at: datetime
    stopped_at: datetime
    energy_kwh: float
    cost: Decimal | None  # at the site's prices (tariff or pushed); None: an hour had none
    stop_reason: str | None


@dataclass(frozen=True, slots=True)
class FinishedSession:
    """A completed charging session, as the central system hands it to the cloud sync.

    (site, charge_point_id, transaction_id) identifies it; the cloud is idempotent on that key.
    Energy is in Wh from the charger's register; `energy_flagged` marks a register that ran
    backwards (energy is then never negative, but the session needs a human look).
    """

    charge_point_id: str
    transaction_id: str
    connector_id: int
    id_tag: str | None
    started_at: datetime
    stopped_at: datetime
    meter_start_wh: float
    meter_stop_wh: float
    energy_wh: float
    stop_reason: str | None = None
    energy_flagged: bool = False


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A finished session waiting in the local outbox; `id` grows in order of completion."""

    id: int
    session: FinishedSession
    created_at: datetime


class SessionOutbox(Protocol):
    """The outbox the central system fills and the cloud sync drains (never drops).

    Beside the queue it keeps the sync's few values that must survive a restart (cursors,
    the card list's epoch, the site config), in the same file.
    """

    async def outbox_pending(self, limit: int) -> list[OutboxEntry]:
        """The oldest unsent entries, in order of completion (parked ones left out)."""
        ...

    async def outbox_mark_sent(self, ids: Sequence[int]) -> None:
        """Mark entries as delivered (the cloud acknowledged them)."""
        ...

    async def outbox_mark_rejected(self, entry_id: int, reason: str) -> None:
        """Park an entry the cloud refuses for good (kept, visible, retryable)."""
        ...

    async def outbox_unsent_count(self) -> int:
        """How many entries wait to be sent (parked ones not counted)."""
        ...

    async def outbox_rejected_count(self) -> int:
        """How many entries are parked."""
        ...

    async def state_get(self, key: str) -> str | None:
        """A value the sync keeps across restarts, or None."""
        ...

    async def state_set(self, key: str, value: str) -> None:
        """Store a value the sync keeps across restarts."""
        ...


class LocalCardList(Protocol):
    """The versioned local authorization list the cloud sync fills."""

    async def card_list_version(self) -> int:
        """Version of the newest delta applied (0 when empty)."""
        ...

    async def apply_card_delta(self, delta: CardListDelta) -> None:
        """Store the delta and push it to the connected chargers (SendLocalList)."""
        ...

    async def replace_card_list(self, full: CardListDelta) -> None:
        """Make the list exactly `full` (cards not in it leave; its version is taken even when
        lower) and push it whole to the chargers (SendLocalList Full)."""
        ...


@dataclass(frozen=True, slots=True)
class DepartureRequest:
    """What a driver states (app, dashboard, service call or cloud): when, which car, how full."""

    charge_point_id: str
    departure_at: datetime
    soc_now: float | None = None
    target_soc: float = 100.0
    battery_kwh: float | None = None
    max_power_kw: float | None = None
    connector_id: int = 1
