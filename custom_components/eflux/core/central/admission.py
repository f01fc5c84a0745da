"""Which chargers may boot, and when a connected charger is ready for charging profiles.

Boot policy (site.yaml `central.boot_policy`): `accept_all` (any charger that may connect is
Accepted), `accept_listed` (only configured or known ones may connect at all: the handshake
refuses others), `pending` (others connect, but their BootNotification is answered Pending until
someone approves them - `approve`, the local API's POST /api/chargers/{id}/approve, HA's
discovered charger). While Pending the central system still reads and sets the charger's
configuration (allowed by both versions), but sends no profile, remote start/stop or card list.

Held (`held`): a charger under `pending` that is neither configured nor approved. What it sends
may not authorize a card or open, feed or close a session (OCPP 1.6 §4.2: a Pending charge point
sends nothing unasked; 2.0.1 B02.FR.09: the CSMS answers CALLERROR SecurityError): rpc.py and
v16.py answer it - a 1.6 Authorize or StartTransaction with idTagInfo Invalid (and a refused
transaction id, `refused_transaction_id`, whose StopTransaction and MeterValues are acknowledged
and not recorded), anything else about cards or sessions with SecurityError. Notices that start
nothing (StatusNotification, Heartbeat, firmware and event notifications) are still answered.
At most `max_pending_chargers` wait at once; beyond it a new id's boot is Rejected, and a
Rejected connection gets SecurityError for everything but BootNotification (B03.FR.07).

Ready: the boot was answered Accepted and the configuration read, or the charger reconnected
without booting (its first CALL is not a BootNotification; or nothing came within the boot grace
of server.py): only then may profiles go out (a profile before the BootNotification answer is
refused by real chargers).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import weakref
from collections.abc import Callable, Container
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
# A Rejected one (the pending list was full) waits longer: nothing will have changed soon.
REJECTED_RETRY_S = 300
# Rejected ids remembered so that each is logged once (bounded: a flood makes them up).
REFUSED_LOGGED_MAX = 1024
# Transaction ids handed to a held 1.6 charger's StartTransaction (answered Invalid): far below
# the ledger's ids (row ids, > 0) and the small negative ones chargers number offline starts
# with, so a late StopTransaction or MeterValues for one is known without any stored state.
REFUSED_TX_TOP = -2_000_000_000
REFUSED_TX_SPAN = 100_000_000
_REFUSED_TX = itertools.count()


def refused_transaction_id() -> int:
    return REFUSED_TX_TOP - next(_REFUSED_TX) % REFUSED_TX_SPAN


def is_refused_transaction(transaction_id: int | str | None) -> bool:
    try:
        value = int(transaction_id) if transaction_id is not None else 0
    except ValueError:
        return False
    return REFUSED_TX_TOP - REFUSED_TX_SPAN < value <= REFUSED_TX_TOP


# How long a command waits for a connected charger to become ready before NotReady.
READY_WAIT_S = 45.0


class Admission:
    def __init__(self, config: CentralConfig, store: Store, clock: Callable[[], datetime]) -> None:
        self._config = config
        self._store = store
        self._clock = clock
        self.approved: set[str] = set()
        self.pending: set[str] = set()  # last BootNotification answered Pending
        self.rejected_boots = 0  # boots of new ids Rejected because `pending` was full
        self._dropped: list[str] = []  # gave up their place (offline), for `take_dropped`
        self._rejected_logged: set[str] = set()
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

    def held(self, cp_id: str) -> bool:
        """Under the `pending` policy, a charger neither configured nor approved: it may boot
        and be configured, but gets no card answer, session, profile or card list."""
        return self.policy == PENDING and not self.listed(cp_id)

    def boot_status(self, cp_id: str, connected: Container[str] = ()) -> str:
        """The BootNotification answer's status for `cp_id` now (and remember Pending).

        Pending for at most `max_pending_chargers` at once; when full, those no longer
        `connected` (and not approved meanwhile) give up their place (they ask again when
        back), and failing that the new id is Rejected."""
        if not self.held(cp_id):
            self.pending.discard(cp_id)
            return "Accepted"
        if cp_id not in self.pending:
            cap = max(self._config.max_pending_chargers, 0)
            if len(self.pending) >= cap:
                stay = {cp for cp in self.pending if cp in connected or not self.held(cp)}
                self._dropped += sorted(self.pending - stay)
                self.pending = stay
            if len(self.pending) >= cap:
                self._rejected(cp_id, cap)
                return "Rejected"
            _LOGGER.warning("%s: new charger held Pending until it is approved", cp_id)
            self.pending.add(cp_id)
        return "Pending"

    def take_dropped(self) -> list[str]:
        """Waiting chargers that gave up their place since the last call (hub.py forgets
        them if they were new)."""
        dropped, self._dropped = self._dropped, []
        return dropped

    def _rejected(self, cp_id: str, cap: int) -> None:
        self.rejected_boots += 1
        if cp_id not in self._rejected_logged:
            if len(self._rejected_logged) >= REFUSED_LOGGED_MAX:
                self._rejected_logged.clear()
            self._rejected_logged.add(cp_id)
            _LOGGER.debug(
                "%s: boot Rejected: %d new chargers already wait for approval", cp_id, cap
            )
        count = self.rejected_boots
        if count == 10 ** (len(str(count)) - 1):  # 1, 10, 100, ...: a flood logs a few lines
            _LOGGER.warning(
                "%d boots of new chargers Rejected so far: %d already wait for approval"
                " (central.max_pending_chargers); approve them, or a place frees when one"
                " of them disconnects",
                count,
                cap,
            )

    def boot_interval(self, status: str) -> int:
        if status == "Pending":
            return PENDING_RETRY_S
        return REJECTED_RETRY_S if status == "Rejected" else self._config.heartbeat_interval

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
        """Profiles may go to this session's charger from now on - unless it is held."""
        if not self.held(session.id):
            self._event(session).set()

    def first_call(self, session: OcppSession, action: str) -> None:
        """A charger that boots sends BootNotification first; one that starts with anything
        else reconnected without booting: what we know of it holds, profiles may go now."""
        if action != "BootNotification":
            self.mark_ready(session)

    def is_ready(self, session: OcppSession) -> bool:
        return self._event(session).is_set()

    async def wait_ready(self, session: OcppSession) -> None:
        """Until `mark_ready`; NotReady at once for a charger not approved (`held`: no profile
        ever goes to it), after READY_WAIT_S for a silent one."""
        if self.is_ready(session):
            return
        if self.held(session.id):
            raise NotReady(session.id)
        try:
            await asyncio.wait_for(self._event(session).wait(), READY_WAIT_S)
        except TimeoutError:
            raise NotReady(session.id) from None
        if session.closed:
            raise ChargePointOffline(session.id)
