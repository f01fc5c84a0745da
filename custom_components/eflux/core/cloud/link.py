"""The cloud link of one installation: the sync loop wired to the central system.

    client = CloudClient(url, token, session=shared_session)
    central = CentralSystem(config, remote_authorizer=client.authorize)   # cloud decides, cached
    await central.start()
    link = await CloudLink.start(client, central, on_departure=runtime.set_departure)
    ...  link.status  /  await link.report_card_lost(uid)  /  link.sync.wake()
    await link.stop()

A finished transaction wakes the sync at once, so sessions reach the cloud within seconds
while it answers; while it does not, they wait in the outbox (backoff, never dropped).
A transaction starting, stopping or metering sends the snapshot of the open ones (throttled);
the portal shows them live. Roaming partners' commands (start, stop, reserve, unlock) come
through `commands` (cloud/commands.py).
"""

from __future__ import annotations

from typing import Any

from ..central import CentralSystem
from ..central.events import (
    CentralEvent,
    TransactionEnded,
    TransactionStarted,
    TransactionUpdated,
)
from ..central.outbox import SqliteSessionOutbox
from .client import CloudClient
from .commands import CommandRunner
from .sync import CloudSync, DepartureHandler, SyncStatus, VehicleHandler


class CloudLink:
    def __init__(
        self, sync: CloudSync, outbox: SqliteSessionOutbox, commands: CommandRunner
    ) -> None:
        self.sync = sync
        self.commands = commands  # roaming partners' commands (OCPI) to our chargers
        self._outbox = outbox
        self._unsubscribe: Any = None

    @classmethod
    async def start(
        cls,
        client: CloudClient,
        central: CentralSystem,
        *,
        on_departure: DepartureHandler | None = None,
        on_vehicles: VehicleHandler | None = None,
        **sync_options: Any,
    ) -> CloudLink:
        """Open the outbox beside the central system's database and start syncing."""
        outbox = SqliteSessionOutbox(central.config.db_path)
        await outbox.open()
        sync = CloudSync(
            client,
            outbox,
            central,
            on_departure=on_departure,
            on_vehicles=on_vehicles,
            open_transactions=central.open_transactions,
            **sync_options,
        )
        link = cls(sync, outbox, CommandRunner(client, central))

        def on_event(event: CentralEvent) -> None:
            if isinstance(event, TransactionEnded):
                link.sync.wake()
            if isinstance(event, TransactionStarted | TransactionUpdated | TransactionEnded):
                link.sync.open_sessions_changed()

        link._unsubscribe = central.add_listener(on_event)
        link.sync.start()
        link.commands.start()
        return link

    @property
    def status(self) -> SyncStatus:
        return self.sync.status

    async def report_card_lost(self, uid: str) -> None:
        await self.sync.report_card_lost(uid)

    async def stop(self) -> None:
        """Stop syncing and close the outbox and the client (unsent sessions stay queued)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self.sync.stop()
        await self.commands.stop()
        await self.sync.client.close()
        await self._outbox.close()
