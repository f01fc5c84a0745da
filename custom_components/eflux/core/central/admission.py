"""Which chargers may boot, and when a connected charger is ready for charging profiles.

Boot policy (site.yaml `central.boot_policy`): `accept_all` (any charger that may connect is
Accepted), `accept_listed` (only configured or known ones may connect at all: the handshake
refuses others), `pending` (others connect, but their BootNotification is answered Pending until
someone approves them - `approve`, the local API's POST /api/chargers/{id}/approve, HA's
discovered charger). While Pending the central system still reads and sets the charger's
configuration (allowed by both versions), but sends no profile or remote start/stop.

Ready: the boot was answered Accepted and the configuration read, or the charger reconnected
without booting (its first CALL is not a BootNotification; or nothing came within the boot grace
of server.py): only then may profiles go out (a profile before the BootNotification answer is
refused by real chargers).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import aiosqlite

from .config import CentralConfig
from .errors import ChargePointOffline, NotReady
from .store import Store
from .timeutil import to_db

if TYPE_CHECKING:
    from .rpc import OcppSession

_LOGGER = logging.getLogger(__name__)
ACCEPT_ALL, ACCEPT_LISTED, PENDING = "accept_all", "accept_listed", "pending"
BOOT_POLICIES = (ACCEPT_ALL, ACCEPT_LISTED, PENDING)
# A Pending charger boots again after this long (the BootNotification answer's interval).
PENDING_RETRY_S = 60
# How long a command waits for a connected charger to become ready before NotReady.
READY_WAIT_S = 45.0


class Admission:
    def __init__(self, config: CentralConfig, store: Store, clock: Callable[[], datetime]) -> None:
        self._config = config
        self._store = store
        self._clock = clock
        self.approved: set[str] = set()
        self.pending: set[str] = set()  # last BootNotification answered Pending
        self._ready: weakref.WeakKeyDictionary[OcppSession, asyncio.Event] = (
            weakref.WeakKeyDictionary()
        )

    async def load(self) -> None:
        async def work(db: aiosqlite.Connection) -> set[str]:
            async with db.execute("SELECT charge_point_id FROM approved_charge_points") as c:
                return {str(row[0]) async for row in c}

        self.approved = await self._store.read(work)

    @property
    def policy(self) -> str:
        if self._config.boot_policy == PENDING:
            return PENDING
        return ACCEPT_ALL if self._config.accept_new_chargers else ACCEPT_LISTED

    def welcomes_new(self) -> bool:
        """Whether a charge point neither configured nor seen before may connect."""
        return self.policy != ACCEPT_LISTED

    def listed(self, cp_id: str) -> bool:
        return cp_id in self._config.known_charge_points or cp_id in self.approved

    def boot_status(self, cp_id: str) -> str:
        """The BootNotification answer's status for `cp_id` now (and remember Pending)."""
        if self.policy == PENDING and not self.listed(cp_id):
            if cp_id not in self.pending:
                _LOGGER.warning("%s: new charger held Pending until it is approved", cp_id)
            self.pending.add(cp_id)
            return "Pending"
        self.pending.discard(cp_id)
        return "Accepted"

    def boot_interval(self, status: str) -> int:
        return PENDING_RETRY_S if status == "Pending" else self._config.heartbeat_interval

    async def approve(self, cp_id: str) -> None:
        now = self._clock()

        async def work(db: aiosqlite.Connection) -> None:
            await db.execute(
                "INSERT OR IGNORE INTO approved_charge_points (charge_point_id, approved_at)"
                " VALUES (?, ?)",
                (cp_id, to_db(now)),
            )

        await self._store.write(work)
        self.approved.add(cp_id)

    # ---- readiness -----------------------------------------------------------------------------
    def _event(self, session: OcppSession) -> asyncio.Event:
        event = self._ready.get(session)
        if event is None:
            event = self._ready[session] = asyncio.Event()
        return event

    def mark_ready(self, session: OcppSession) -> None:
        """Profiles may go to this session's charger from now on - unless it is Pending."""
        if session.id not in self.pending:
            self._event(session).set()

    def first_call(self, session: OcppSession, action: str) -> None:
        """A charger that boots sends BootNotification first; one that starts with anything
        else reconnected without booting: what we know of it holds, profiles may go now."""
        if action != "BootNotification":
            self.mark_ready(session)

    def is_ready(self, session: OcppSession) -> bool:
        return self._event(session).is_set()

    async def wait_ready(self, session: OcppSession) -> None:
        """Until `mark_ready`; NotReady after READY_WAIT_S (a Pending or silent charger)."""
        if self.is_ready(session):
            return
        try:
            await asyncio.wait_for(self._event(session).wait(), READY_WAIT_S)
        except TimeoutError:
            raise NotReady(session.id) from None
        if session.closed:
            raise ChargePointOffline(session.id)
