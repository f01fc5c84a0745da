"""Send limits to chargers: at most one call in flight per charger, and the newest value wins.

The controller states what each charger should have (`want`); a task per charger sends it and,
when the wish changed while the call was out, sends the newest one next (values in between are
never sent). A failed call is retried after `retry_after`, or at once when the charger comes back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..central import CentralError, CentralSystem, ChargePointOffline
from ..config import ChargerBinding

_LOGGER = logging.getLogger(__name__)
QUICK_RETRY_S = 0.3


@dataclass(frozen=True, slots=True)
class Command:
    amps: float
    phases: int | None  # None: as the charger is wired
    # What an idle charger holds for the next car (control.plug_in): never equal to a
    # session's own limit, so that one is sent even when the amps are the same.
    plug_in: bool = False


@dataclass(slots=True)
class Channel:
    binding: ChargerBinding
    wanted: Command | None = None
    acked: Command | None = None
    task: asyncio.Task[None] | None = None
    error: str | None = None
    failed_at: datetime | None = None
    offline: bool = False


class LimitSender:
    def __init__(
        self,
        central: CentralSystem,
        clock: Callable[[], datetime],
        retry_after: timedelta,
        on_sent: Callable[[str], None],
    ) -> None:
        self._central = central
        self._clock = clock
        self._retry_after = retry_after
        self._on_sent = on_sent
        self.channels: dict[str, Channel] = {}

    def want(self, ident: str, binding: ChargerBinding, command: Command) -> None:
        channel = self.channels.get(ident)
        if channel is None:
            channel = self.channels[ident] = Channel(binding)
        channel.wanted = command
        self._kick(ident, channel)

    def forget_acked(self, charge_point_id: str) -> None:
        """The charger reconnected: its profiles may be gone, send everything again now."""
        for ident, channel in self.channels.items():
            if channel.binding.charge_point_id == charge_point_id:
                channel.acked, channel.failed_at, channel.offline = None, None, False
                self._kick(ident, channel)

    def retry_due(self) -> datetime | None:
        """The earliest moment a failed send should be tried again."""
        due = [
            c.failed_at + self._retry_after
            for c in self.channels.values()
            if c.failed_at is not None and not c.offline and c.wanted != c.acked
        ]
        return min(due, default=None)

    def retry(self) -> None:
        now = self._clock()
        for ident, channel in self.channels.items():
            failed = channel.failed_at
            if failed is not None and not channel.offline and now >= failed + self._retry_after:
                channel.failed_at = None
                self._kick(ident, channel)

    def in_flight(self) -> int:
        return sum(1 for c in self.channels.values() if c.task is not None)

    async def stop(self) -> None:
        tasks = [c.task for c in self.channels.values() if c.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _kick(self, ident: str, channel: Channel) -> None:
        if channel.task is not None or channel.wanted == channel.acked:
            return
        if channel.failed_at is not None or channel.offline:
            return  # waits for `retry` or a reconnect
        channel.task = asyncio.get_running_loop().create_task(self._drain(ident, channel))

    async def _drain(self, ident: str, channel: Channel) -> None:
        retried = False
        try:
            while channel.wanted is not None and channel.wanted != channel.acked:
                command = channel.wanted
                if not await self._send(ident, channel, command, final=retried):
                    if retried or channel.offline:
                        return
                    # A charger rejects a TxProfile for a transaction whose id it has not
                    # heard yet (the limit can overtake StartTransaction's answer): try once
                    # more shortly, with the newest value, before waiting `retry_after`.
                    retried = True
                    await asyncio.sleep(QUICK_RETRY_S)
                    continue
                channel.acked, channel.error = command, None
                self._on_sent(ident)
        finally:
            channel.task = None

    async def _send(self, ident: str, channel: Channel, command: Command, *, final: bool) -> bool:
        binding = channel.binding
        try:
            await self._central.set_current_limit(
                binding.charge_point_id, command.amps, command.phases, binding.connector_id
            )
        except ChargePointOffline:
            channel.offline, channel.error = True, "offline"
            return False
        except (CentralError, OSError) as err:
            channel.error = _describe(err)
            if final:
                _LOGGER.warning("%s: limit %.1f A not set: %s", ident, command.amps, err)
                channel.failed_at = self._clock()
                self._on_sent(ident)
            return False
        return True


def _describe(err: Any) -> str:
    return f"{type(err).__name__}: {err}"
