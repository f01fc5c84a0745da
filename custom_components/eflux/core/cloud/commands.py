"""Roaming partners' commands, taken from the cloud and sent to our chargers.

An eMSP asks the cloud (OCPI 2.2.1 Commands) to start or stop a session, reserve, cancel a
reservation or unlock a connector at one of this site's charge points open to guests. The
cloud queues it for this site; `CommandRunner` long-polls `GET /sync/commands`, sends each
command to its charger through the central system (the same calls the site's own remote
start, stop, reservations and unlock use) and reports the charger's answer as an OCPI
CommandResultType (`POST /sync/commands/{id}/result`), which the cloud passes on.

A back end without OCPI answers 404: the runner asks again every `idle` seconds only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..central import (
    CallErrorReceived,
    CallRejected,
    CallTimeout,
    CentralError,
    CentralSystem,
    ChargePointOffline,
    ReservationNotSupported,
    UnknownChargePoint,
    UnknownReservation,
)
from .backoff import Backoff
from .client import CloudClient
from .errors import CloudAuthError, CloudError, CloudRejected

_LOGGER = logging.getLogger(__name__)
# A charger's refusal of ReserveNow / RemoteStart by its status, as OCPI names it.
_REFUSED = {
    "Occupied": "EVSE_OCCUPIED",
    "Faulted": "EVSE_INOPERATIVE",
    "Unavailable": "EVSE_INOPERATIVE",
    "NotSupported": "NOT_SUPPORTED",
    "UnlockFailed": "FAILED",
}


@dataclass(frozen=True, slots=True)
class Outcome:
    result: str  # OCPI CommandResultType
    message: str | None = None
    reservation_id: int | None = None


class CommandRunner:
    def __init__(
        self,
        client: CloudClient,
        central: CentralSystem,
        *,
        wait: int = 25,
        idle: float = 600.0,
        backoff: Backoff | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.central = central
        self.wait = wait
        self.idle = idle
        self.backoff = backoff or Backoff()
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self.handled = 0  # commands answered since start

    # ---- the loop -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(), name="eflux-commands")

    async def stop(self) -> None:
        for task in (self._task, *self._running):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = None
        self._running.clear()

    async def run(self) -> None:
        while True:
            delay = await self.poll_once()
            if delay > 0:
                await self._sleep(delay)

    async def poll_once(self) -> float:
        """One long poll; each command it brings runs on its own (a charger that takes 30 s
        to answer holds up no other). Returns how long to wait before the next poll."""
        try:
            data = await self.client.request(
                "GET", f"/sync/commands?wait={self.wait}", seconds=self.wait + 15
            )
        except CloudRejected as err:
            if err.status == 404:  # no OCPI on this back end
                return self.idle
            _LOGGER.warning("cloud refuses the command poll: %s", err)
            return self.backoff.next_delay()
        except CloudAuthError:
            return self.backoff.cap
        except CloudError as err:
            _LOGGER.debug("command poll failed: %s", err)
            return self.backoff.next_delay()
        self.backoff.reset()
        for item in data.get("items", []) if isinstance(data, dict) else []:
            task = asyncio.get_running_loop().create_task(self._handle(item))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return 0.0

    async def _handle(self, item: dict[str, Any]) -> None:
        outcome = await self.execute(item)
        body = {
            "result": outcome.result,
            "message": outcome.message,
            "reservation_id": outcome.reservation_id,
        }
        for attempt in range(5):  # the charger has acted: its answer must reach the cloud
            try:
                await self.client.request("POST", f"/sync/commands/{item['id']}/result", body)
                break
            except CloudRejected as err:  # 409: too late, the partner was told TIMEOUT
                _LOGGER.warning("command %s: the cloud refuses its result: %s", item["id"], err)
                break
            except CloudError as err:
                _LOGGER.debug("command %s result not sent (%d): %s", item["id"], attempt, err)
                await self._sleep(self.backoff.next_delay())
        self.handled += 1

    # ---- one command --------------------------------------------------------------------------
    async def execute(self, item: dict[str, Any]) -> Outcome:
        """Send the command to its charger; the charger's answer as an OCPI result."""
        name = item.get("command")
        cp_id, connector = str(item.get("charge_point_id")), int(item.get("connector_id", 1))
        args = item.get("args") or {}
        try:
            if name == "START_SESSION":
                running = self.central.open_transactions(cp_id)
                if any(tx.connector_id == connector for tx in running):
                    return Outcome("EVSE_OCCUPIED", "a session is running on this connector")
                await self.central.remote_start(cp_id, connector, str(args["id_tag"]))
                return Outcome("ACCEPTED")
            if name == "STOP_SESSION":
                await self.central.remote_stop(cp_id, str(args["transaction_id"]))
                return Outcome("ACCEPTED")
            if name == "RESERVE_NOW":
                return await self._reserve(cp_id, connector, args)
            if name == "CANCEL_RESERVATION":
                await self.central.cancel_reservation(int(args["reservation_id"]))
                return Outcome("ACCEPTED")
            if name == "UNLOCK_CONNECTOR":
                return await self._unlock(cp_id, connector)
        except UnknownReservation:
            return Outcome("UNKNOWN_RESERVATION", "the charger holds no such reservation")
        except ReservationNotSupported as err:
            return Outcome("NOT_SUPPORTED", str(err))
        except CallRejected as err:
            return Outcome(_REFUSED.get(err.status, "REJECTED"), f"{err.action}: {err.status}")
        except CallTimeout as err:
            return Outcome("TIMEOUT", str(err))
        except CallErrorReceived as err:  # the charger does not know the message
            unknown = err.code in ("NotImplemented", "NotSupported")
            return Outcome("NOT_SUPPORTED" if unknown else "FAILED", f"{err.action}: {err.code}")
        except (ChargePointOffline, UnknownChargePoint) as err:
            return Outcome("EVSE_INOPERATIVE", str(err))
        except CentralError as err:
            return Outcome("FAILED", str(err))
        except (KeyError, TypeError, ValueError) as err:
            return Outcome("FAILED", f"the command is malformed: {err!r}")
        return Outcome("NOT_SUPPORTED", f"unknown command {name!r}")

    async def _reserve(self, cp_id: str, connector: int, args: dict[str, Any]) -> Outcome:
        replaces = args.get("replaces")
        if replaces is not None:  # the partner's same reservation id again: it replaces it
            with contextlib.suppress(UnknownReservation, CallRejected):
                await self.central.cancel_reservation(int(replaces))
        held = await self.central.reserve(
            cp_id, connector, str(args["id_tag"]), datetime.fromisoformat(args["expires_at"])
        )
        return Outcome("ACCEPTED", reservation_id=held.id)

    async def _unlock(self, cp_id: str, connector: int) -> Outcome:
        status = await self.central.unlock(cp_id, connector)
        if status == "Unlocked":
            return Outcome("ACCEPTED")
        return Outcome(_REFUSED.get(status, "FAILED"), f"UnlockConnector: {status}")
