"""The ChargePointMaxProfile safe limit: written when a charger connects, renewed at half its
validity (chargers keep it in flash: about twice a day, not on every change), retried on failure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from ..central import CentralError, CentralSystem

_LOGGER = logging.getLogger(__name__)


class SafeLimits:
    def __init__(
        self,
        central: CentralSystem,
        clock: Callable[[], datetime],
        amps: Mapping[str, float],  # per charge point
        valid_for: timedelta,
        retry_after: timedelta,
        on_change: Callable[[], None],
    ) -> None:
        self._central = central
        self._clock = clock
        self._amps = amps
        self._valid_for = valid_for
        self._retry_after = retry_after
        self._on_change = on_change
        self._due: dict[str, datetime] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.errors: dict[str, str] = {}

    def write(self, cp_id: str) -> None:
        """Write it now (in the background); a write already under way is not repeated."""
        if cp_id not in self._amps:
            return
        running = self._tasks.get(cp_id)
        if running is not None and not running.done():
            return
        self._due.pop(cp_id, None)
        self._tasks[cp_id] = asyncio.get_running_loop().create_task(self._write(cp_id))

    def renew_due(self) -> None:
        now = self._clock()
        for cp_id, due in list(self._due.items()):
            if now >= due:
                self.write(cp_id)

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _write(self, cp_id: str) -> None:
        try:
            await self._central.set_safe_limit(cp_id, self._amps[cp_id], self._valid_for)
        except CentralError as err:
            _LOGGER.warning("%s: safe limit not set: %s", cp_id, err)
            self.errors[cp_id] = f"{type(err).__name__}: {err}"
            self._due[cp_id] = self._clock() + self._retry_after
        else:
            self.errors.pop(cp_id, None)
            self._due[cp_id] = self._clock() + self._valid_for / 2
        self._on_change()
