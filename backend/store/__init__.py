"""The back end's repositories over one `Database` (SQLite or PostgreSQL).

    store = await Store.open("eflux.sqlite")            # or "postgresql://…"
    account = await store.accounts.create_account(AccountKind.CONSUMER, "Ann", now=now)

Every read that takes `scope` limits itself to that account id; `None` means everything
(admins). A record outside the scope raises `NotFound`, exactly like a missing one.
"""

from __future__ import annotations

from ..storage import Database, open_database
from .accounts import Accounts, IssuedToken
from .audit import AuditLog
from .card_epoch import CardEpoch
from .cards import CardDelta, Cards, ListedCard, normalise_uid
from .errors import Conflict, Invalid, NotFound, StoreError
from .installations import Installations, Step, StepAction, StoredOrder
from .models import (
    Account,
    AccountKind,
    AuditEntry,
    CardKind,
    CardOrder,
    CardRecord,
    CardStatus,
    ChargePoint,
    Departure,
    Principal,
    Role,
    SessionRecord,
    SessionSource,
    Site,
    Tariff,
    User,
)
from .open_sessions import OpenSession, OpenSessionIn, OpenSessions, SnapshotResult
from .plans import Plans, Subscription
from .privacy import Privacy
from .review import Correction, Review
from .sessions import IngestResult, SessionIn, Sessions
from .sites import DepartureIn, Sites
from .vehicles import CardVehicle, Vehicles

__all__ = [
    "Account",
    "AccountKind",
    "AuditEntry",
    "AuditLog",
    "CardDelta",
    "CardEpoch",
    "CardKind",
    "CardOrder",
    "CardRecord",
    "CardStatus",
    "CardVehicle",
    "Cards",
    "ChargePoint",
    "Conflict",
    "Correction",
    "Departure",
    "DepartureIn",
    "IngestResult",
    "Installations",
    "Invalid",
    "IssuedToken",
    "ListedCard",
    "NotFound",
    "OpenSession",
    "OpenSessionIn",
    "OpenSessions",
    "Plans",
    "Principal",
    "Privacy",
    "Review",
    "Role",
    "SessionIn",
    "SessionRecord",
    "SessionSource",
    "Sessions",
    "Site",
    "Sites",
    "SnapshotResult",
    "Step",
    "StepAction",
    "Store",
    "StoreError",
    "StoredOrder",
    "Subscription",
    "Tariff",
    "User",
    "Vehicles",
    "normalise_uid",
]


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.accounts = Accounts(db)
        self.audit = AuditLog(db)
        self.cards = Cards(db)
        self.vehicles = Vehicles(db, self.cards)
        self.sites = Sites(db)
        self.sessions = Sessions(db, self.sites)
        self.open_sessions = OpenSessions(db, self.sites)
        self.plans = Plans(db)
        self.review = Review(db)
        self.installations = Installations(db)
        self.privacy = Privacy(db, self.accounts, self.cards, self.sessions)

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True) -> Store:
        return cls(await open_database(url, migrate=migrate))

    async def close(self) -> None:
        await self.db.close()
