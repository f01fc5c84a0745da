"""The local side of the cloud sync: sessions and open sessions up; card list, departures and
site config down.

One `attempt()` pushes the outbox in batches (oldest first, so sessions arrive in order of
completion), then the snapshot of the open transactions, pulls the card-list delta into the
local list (which pushes it to the chargers) and hands new departures to the planner. When the
cloud's card list is on another history (restored from a backup: another epoch, or behind our
version) it answers with the full list, which replaces ours instead of being merged. `run()`
repeats it: every `interval` while the cloud answers, after an exponential backoff with jitter
while it does not, at once after `wake()`.
Nothing is dropped: an entry leaves the outbox only when the cloud acknowledged it (created
or duplicate); one the cloud refuses for good is parked with its reason, visible in the status.
Open sessions are the opposite: only the latest snapshot matters, so one that cannot be sent is
dropped (the next round or change sends a fresh one); between rounds a start, stop or meter
value sends one, at most every `open_sessions_every` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..clock import utc_now
from ..domain import DepartureRequest, LocalCardList, OutboxEntry, SessionOutbox
from .backoff import Backoff
from .client import CloudClient
from .errors import CloudAuthError, CloudError, CloudRejected

if TYPE_CHECKING:  # type only: importing `core.cloud` does not load the central system
    from ..central.model import Transaction

_LOGGER = logging.getLogger(__name__)
DEPARTURES_CURSOR = "departures_after"
CONFIG_KEY = "site_config"
CARD_EPOCH_KEY = "card_list_epoch"  # the cloud's card-list history our version belongs to
DepartureHandler = Callable[[DepartureRequest], Awaitable[object]]
# Every card's driver and car as the cloud last said (uid -> {"driver", "car"}), after each pull.
VehicleHandler = Callable[[Mapping[str, Mapping[str, Any]]], object]
CARD_VEHICLES_KEY = "card_vehicles"
OpenTransactions = Callable[[], Sequence["Transaction"]]


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """What Home Assistant shows about the cloud link."""

    online: bool = False
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    pending: int = 0
    rejected: int = 0
    sent: int = 0  # sessions acknowledged since start
    last_error: str | None = None
    auth_failed: bool = False  # the token was refused: HA asks the user to re-authenticate
    next_attempt_at: datetime | None = None
    card_list_version: int = 0


class CloudSync:
    def __init__(
        self,
        client: CloudClient,
        outbox: SessionOutbox,
        cards: LocalCardList,
        *,
        on_departure: DepartureHandler | None = None,
        on_vehicles: VehicleHandler | None = None,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        backoff: Backoff | None = None,
        batch_size: int = 100,
        interval: float = 60.0,
        open_transactions: OpenTransactions | None = None,
        open_sessions_every: float = 15.0,
    ) -> None:
        self.client = client
        self._outbox = outbox
        self._cards = cards
        self._on_departure = on_departure
        self._on_vehicles = on_vehicles
        self._clock = clock
        self._sleep = sleep
        self.backoff = backoff or Backoff()
        self.batch_size = batch_size
        self._max_batch = batch_size
        self.interval = interval
        self._status = SyncStatus()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[SyncStatus], None]] = []
        self._open_transactions = open_transactions
        self.open_sessions_every = open_sessions_every
        self._open_lock = asyncio.Lock()  # snapshots leave in the order they were taken
        self._open_changed = False
        self._open_sent = -math.inf  # loop time of the last snapshot sent
        self._open_task: asyncio.Task[None] | None = None

    # ---- status -----------------------------------------------------------------------------
    @property
    def status(self) -> SyncStatus:
        return self._status

    def add_listener(self, callback: Callable[[SyncStatus], None]) -> Callable[[], None]:
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)

    def _set(self, **changes: object) -> None:
        self._status = replace(self._status, **changes)  # type: ignore[arg-type]
        for callback in list(self._listeners):
            callback(self._status)

    # ---- one round ----------------------------------------------------------------------------
    async def sync_once(self) -> None:
        """Push, pull cards, pull departures; raises the first CloudError."""
        await self._push_sessions()
        await self._push_open_sessions()  # after the finished ones, which leave the snapshot
        await self._pull_cards()
        await self._pull_departures()
        await self._pull_config()

    async def attempt(self) -> float:
        """One round with bookkeeping; returns how long to wait before the next one."""
        now = self._clock()
        outcome: dict[str, object]
        try:
            await self.sync_once()
        except CloudAuthError as err:
            delay = self.backoff.cap
            outcome = {"online": False, "auth_failed": True, "last_error": f"auth: {err}"}
        except CloudError as err:
            delay = self.backoff.next_delay()
            outcome = {"online": False, "last_error": str(err)}
        except Exception as err:  # a local failure (e.g. the card list): keep syncing the rest
            _LOGGER.exception("cloud sync round failed")
            delay = self.backoff.next_delay()
            outcome = {"online": False, "last_error": f"local: {type(err).__name__}: {err}"}
        else:
            self.backoff.reset()
            delay = self.interval
            outcome = {
                "online": True,
                "auth_failed": False,
                "last_error": None,
                "last_success_at": now,
            }
        # One update per round, so a reader never sees "online" with the old queue length.
        self._set(
            **outcome,
            last_attempt_at=now,
            next_attempt_at=now + timedelta(seconds=delay),
            pending=await self._outbox.outbox_unsent_count(),
            rejected=await self._outbox.outbox_rejected_count(),
            card_list_version=await self._cards.card_list_version(),
        )
        return delay

    async def _push_sessions(self) -> None:
        while entries := await self._outbox.outbox_pending(self.batch_size):
            try:
                await self._send(entries)
            except CloudRejected as err:
                if err.status == 413 and len(entries) > 1:
                    self.batch_size = max(1, len(entries) // 2)  # the cloud's body limit
                    continue
                await self._send_one_by_one(entries)
        self.batch_size = self._max_batch

    async def _send(self, entries: list[OutboxEntry]) -> None:
        acks = await self.client.post_sessions([e.session for e in entries])
        acked = {(a.charge_point_id, a.transaction_id) for a in acks}
        done = [
            e.id for e in entries if (e.session.charge_point_id, e.session.transaction_id) in acked
        ]
        if not done:  # never loop on a batch the cloud answered without acknowledging it
            raise CloudError("the cloud acknowledged none of the batch")
        await self._outbox.outbox_mark_sent(done)
        self._set(sent=self._status.sent + len(done))

    async def _send_one_by_one(self, entries: list[OutboxEntry]) -> None:
        """A batch was refused: find the entries the cloud refuses and park only those."""
        for entry in entries:
            try:
                await self._send([entry])
            except CloudRejected as err:
                _LOGGER.error(
                    "cloud refuses session %s/%s: %s",
                    entry.session.charge_point_id,
                    entry.session.transaction_id,
                    err,
                )
                await self._outbox.outbox_mark_rejected(entry.id, str(err))

    async def _push_open_sessions(self) -> None:
        if self._open_transactions is None:
            return
        async with self._open_lock:
            self._open_changed = False
            self._open_sent = asyncio.get_running_loop().time()
            taken_at = self._clock()
            try:
                await self.client.put_open_sessions(self._open_transactions(), taken_at=taken_at)
            except CloudRejected as err:  # e.g. a charger's odd id: never stop the rest of sync
                _LOGGER.warning("cloud refuses the open sessions: %s", err)

    def open_sessions_changed(self) -> None:
        """A transaction started, stopped or metered: send the snapshot soon (throttled)."""
        self._open_changed = True
        if self._open_task is None or self._open_task.done():
            self._open_task = asyncio.get_running_loop().create_task(
                self._send_open_when_due(), name="eflux-cloud-open"
            )

    async def _send_open_when_due(self) -> None:
        loop = asyncio.get_running_loop()
        while self._open_changed:
            wait = self._open_sent + self.open_sessions_every - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
                continue  # a sync round may have sent it meanwhile
            try:
                await self._push_open_sessions()
            except CloudError as err:  # offline: nothing is queued, the next one is fresh
                _LOGGER.debug("open sessions not sent: %s", err)
                return

    async def _pull_cards(self) -> None:
        version = await self._cards.card_list_version()
        epoch = await self._outbox.state_get(CARD_EPOCH_KEY)
        pull = await self.client.card_list(version, epoch)
        delta = pull.delta
        if pull.full and version > 0:
            # The cloud's history is not ours (restored from a backup, or we are ahead of
            # it): merging would keep cards it no longer has and changes it lost.
            _LOGGER.warning(
                "cloud card list reset (epoch %s -> %s, version %d -> %d):"
                " replacing the local list",
                epoch,
                pull.epoch,
                version,
                delta.version,
            )
            await self._cards.replace_card_list(delta)
        elif delta.version > version:
            await self._cards.apply_card_delta(delta)
        await self._store_vehicles(pull.vehicles, replace=pull.full)
        # Only after the list is stored: a crash in between asks for the full list again.
        if pull.epoch is not None and pull.epoch != epoch:
            await self._outbox.state_set(CARD_EPOCH_KEY, pull.epoch)

    async def _store_vehicles(
        self, changed: Mapping[str, Mapping[str, Any] | None], *, replace: bool
    ) -> None:
        """Keep every card's vehicle beside the card list (a restart pulls only changes) and
        hand the whole map to the site."""
        raw = await self._outbox.state_get(CARD_VEHICLES_KEY)
        known: dict[str, Any] = {} if replace or not raw else json.loads(raw)
        for uid, vehicle in changed.items():
            if vehicle is None:
                known.pop(uid, None)
            else:
                known[uid] = dict(vehicle)
        if changed or replace:
            await self._outbox.state_set(CARD_VEHICLES_KEY, json.dumps(known, sort_keys=True))
        if self._on_vehicles is not None:
            self._on_vehicles(known)

    async def _pull_departures(self) -> None:
        after = int(await self._outbox.state_get(DEPARTURES_CURSOR) or 0)
        for departure in await self.client.departures(after):
            if self._on_departure is not None:
                try:
                    await self._on_departure(departure.request)
                except Exception:  # one bad request (unknown charger) must not block the rest
                    _LOGGER.exception("departure %s was not taken", departure.id)
            await self._outbox.state_set(DEPARTURES_CURSOR, str(departure.id))

    async def _pull_config(self) -> None:
        config = await self.client.site_config()
        text = json.dumps(config, sort_keys=True)
        if text != await self._outbox.state_get(CONFIG_KEY):
            await self._outbox.state_set(CONFIG_KEY, text)

    async def site_config(self) -> dict[str, Any] | None:
        """The last site config from the cloud (site, charge points, tariffs, subscriptions),
        kept locally so it is there offline and after a restart; None before the first pull."""
        text = await self._outbox.state_get(CONFIG_KEY)
        return None if text is None else dict(json.loads(text))

    # ---- the loop ---------------------------------------------------------------------------
    async def run(self) -> None:
        """Sync until cancelled."""
        while True:
            delay = await self.attempt()
            await self._wait(delay)

    def wake(self) -> None:
        """Sync now (e.g. a session just finished, or the user pressed 'sync')."""
        self._wake.set()

    async def _wait(self, delay: float) -> None:
        sleeper = asyncio.ensure_future(self._sleep(delay))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
            self._wake.clear()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(), name="eflux-cloud")

    async def stop(self) -> None:
        for task in (self._task, self._open_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._open_task = None

    async def report_card_lost(self, uid: str) -> None:
        """Block a card in the cloud, then pull the delta so local chargers refuse it at once."""
        await self.client.report_card_lost(uid)
        await self._pull_cards()
