"""The ChargePointMaxProfile safe limit, the charger's dead-man switch: its normal maximum for
`valid_for`, then the safe current with no end. Written when a charger connects, renewed at
half its validity (so the switch never trips while the controller runs), retried on failure.
Chargers keep it in flash, so `valid_for` trades wear against how long a charger may run
unwatched (ControllerSettings.safe_limit_valid_for).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..balancing import Charger
from ..central import CentralError, CentralSystem
from ..config import ChargerBinding

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SafeCurrent:
    """Per charge point: what it may draw while the controller lives, and without it."""

    normal_a: float
    safe_a: float
    # A charger that cannot fall back (one schedule period) gets this ceiling instead: its
    # configured safe_limit_a, else its maximum, so that balancing is not held at safe_a.
    ceiling_a: float


def safe_current(
    chargers: Iterable[Charger], bindings: Mapping[str, ChargerBinding]
) -> SafeCurrent:
    """A charge point's dead-man switch, summed over its connectors (`chargers`): their maximum
    while the controller renews it (never a cap on balancing), then their `safe_limit_a` (else
    the safe current they get when a meter goes silent: losing the controller is no safer than
    losing the meter)."""
    normal = safe = ceiling = 0.0
    for charger in chargers:
        configured = bindings[charger.id].safe_limit_a
        top = charger.max_current_a
        normal += top
        safe += min(top, charger.safe_current_a if configured is None else configured)
        ceiling += top if configured is None else min(top, configured)
    return SafeCurrent(normal, safe, ceiling)


class SafeLimits:
    def __init__(
        self,
        central: CentralSystem,
        clock: Callable[[], datetime],
        amps: Mapping[str, SafeCurrent],  # per charge point
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
        # The profile's validity runs from when it is sent, not from when the charger answers.
        sent_at = self._clock()
        try:
            wanted = self._amps[cp_id]
            await self._central.set_safe_limit(
                cp_id,
                wanted.safe_a,
                self._valid_for,
                normal_amps=wanted.normal_a,
                ceiling_amps=wanted.ceiling_a,
            )
        except CentralError as err:
            _LOGGER.warning("%s: safe limit not set: %s", cp_id, err)
            self.errors[cp_id] = f"{type(err).__name__}: {err}"
            self._due[cp_id] = self._clock() + self._retry_after
        else:
            self.errors.pop(cp_id, None)
            self._due[cp_id] = sent_at + self._valid_for / 2
        self._on_change()
