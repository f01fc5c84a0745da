"""One charger's websocket session on top of the `ocpp` library's ChargePoint.

What we keep from the library: the `@on`/`@after` route map, its schemas and its
snake_case/camelCase conversion. What we replace (DESIGN §6):
- every frame gets an answer, malformed ones included (`framing.py`);
- message ids are checked, and a repeated CALL gets the answer it got the first time;
- error codes as the specification spells them per version (`validation.py`, `errors.py`);
- schema validation inline by default (the library hops to a thread for every message);
- our own CALLs: one outstanding at a time, the rest queue in order; typed errors for
  offline/timeout/CALLERROR; a late answer after a timeout is dropped, not mistaken for the
  answer to the next CALL. The receive loop never waits for one of our CALLs, so a handler
  cannot deadlock it; follow-up work runs in tracked tasks that die with the session.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from ocpp.charge_point import ChargePoint
from ocpp.routing import after as _after
from ocpp.routing import on as _on
from websockets.exceptions import ConnectionClosed

from . import firmware, quickcheck, validation
from .errors import (
    CallErrorReceived,
    CallTimeout,
    ChargePointOffline,
    InvalidRequest,
    RpcCode,
    RpcError,
)
from .events import ChargerNotified
from .framing import (
    CALLRESULT,
    CallFrame,
    ErrorFrame,
    FrameError,
    ResultFrame,
    call_error_text,
    call_result_text,
    call_text,
    parse_frame,
)
from .keys import snake_keys
from .ratelimit import RateGate
from .timeutil import to_wire

if TYPE_CHECKING:
    from websockets.asyncio.server import ServerConnection

    from ..domain import Card
    from .hub import ChargerHub
    from .model import Reservation, Transaction
    from .profiles import ProfileSpec

_LOGGER = logging.getLogger(__name__)
_F = TypeVar("_F", bound=Callable[..., Any])
# How many answered CALL ids a session remembers to recognise a repeated CALL (kept small:
# a thousand chargers each keep these).
RECENT_IDS = 16
# What a charger held for approval (admission.py) may still send and have handled: its boot and
# notices that authorize no card and open, feed or close no session. Anything else gets
# CALLERROR SecurityError (2.0.1 B02.FR.09; 1.6 §4.2: a Pending charge point sends nothing
# unasked), and from one not Pending (Rejected: B03.FR.07; or not booted yet) everything but
# BootNotification does.
HELD_NOTICES = frozenset(
    {
        "Heartbeat",
        "StatusNotification",
        "FirmwareStatusNotification",
        "DiagnosticsStatusNotification",
        "SignedFirmwareStatusNotification",
        "PublishFirmwareStatusNotification",
        "LogStatusNotification",
        "SecurityEventNotification",
        "NotifyEvent",
        "NotifyReport",
        "NotifyMonitoringReport",
        "NotifyCustomerInformation",
        "NotifyDisplayMessages",
    }
)


def on(action: str) -> Callable[[_F], _F]:
    """The library's `@on`, typed."""
    return cast(Callable[[_F], _F], _on(action))


def after(action: str) -> Callable[[_F], _F]:
    """The library's `@after`, typed: runs in a tracked task once the answer is sent."""
    return cast(Callable[[_F], _F], _after(action))


@dataclass(slots=True)
class _PendingCall:
    unique_id: str
    action: str
    future: asyncio.Future[dict[str, Any]]


class OcppSession(ChargePoint):  # type: ignore[misc]  # the library is untyped
    ocpp_version: ClassVar[str]

    def __init__(
        self,
        cp_id: str,
        connection: ServerConnection,
        hub: ChargerHub,
        *,
        call_timeout: float,
        validate_in_thread: bool = False,
    ) -> None:
        super().__init__(cp_id, connection, response_timeout=call_timeout, logger=_LOGGER)
        self.hub = hub
        self.connection = connection
        self.call_timeout = call_timeout
        self._validate_in_thread = validate_in_thread
        self._call_lock = asyncio.Lock()
        self._pending: _PendingCall | None = None
        # message id -> (hash of the CALL's text, our answer)
        self._answered: OrderedDict[str, tuple[int, str]] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.closed = False
        self.booted = False  # a BootNotification came on this connection
        self.boot_answer: str | None = None  # the status we answered it with
        self._called = False  # the charger sent a CALL on this connection
        self._gate = RateGate(hub.config.rate_limit)

    # ---- receiving -------------------------------------------------------------------------
    async def serve(self) -> None:
        """Read frames until the socket closes; then fail our pending CALL and stop our tasks."""
        try:
            while True:
                message = await self.connection.recv()
                await self.route_message(message)
                # recv() does not suspend while frames are buffered: without this, a charger
                # that floods would hold the event loop and starve every other charger.
                await asyncio.sleep(0)
        except ConnectionClosed:
            pass
        finally:
            await self.shutdown()

    async def route_message(self, raw_msg: str | bytes) -> None:
        self.hub.touch(self.id)
        if isinstance(raw_msg, bytes):
            await self.send_error(
                "-1", RpcCode.RPC_FRAMEWORK_ERROR, "binary frames are not OCPP-J; send text frames"
            )
            return
        try:
            frame = parse_frame(raw_msg)
        except FrameError as err:
            _LOGGER.warning("%s: unusable frame: %s", self.id, err.description)
            await self.send_error(err.unique_id, err.code, err.description)
            return
        if isinstance(frame, CallFrame):
            await self._on_call(frame, raw_msg)
        else:
            self._on_answer(frame)

    async def _on_call(self, frame: CallFrame, raw: str) -> None:
        if not await self._gate.admit(self, frame):
            return
        if not self._called:  # its first CALL says whether it boots (admission.py)
            self._called = True
            self.hub.admission.first_call(self, frame.action)
        previous = self._answered.get(frame.unique_id)
        if previous is not None:
            if previous[0] == hash(raw):  # the same CALL again: same answer, handled once
                await self._send(previous[1])
            else:
                await self.send_error(
                    frame.unique_id,
                    RpcCode.PROTOCOL_ERROR,
                    f"message id {frame.unique_id} was already used for another CALL",
                )
            return
        handlers = self.route_map.get(frame.action) or {}
        try:
            answer = await self._answer(frame, handlers)
        except RpcError as err:
            text = self._error_text(frame.unique_id, err.code, err.description, err.details)
        except Exception:
            _LOGGER.exception("%s: %s failed", self.id, frame.action)
            text = self._error_text(
                frame.unique_id, RpcCode.INTERNAL_ERROR, f"{frame.action} could not be processed"
            )
        else:
            text = call_result_text(frame.unique_id, answer)
        # A transient failure may be retried, and so may a CALL refused while the charger
        # waited for approval (the same message id again once approved gets a real answer).
        if not text.startswith(
            (f'[4,"{frame.unique_id}","InternalError"', f'[4,"{frame.unique_id}","SecurityError"')
        ):
            self._remember(frame.unique_id, raw, text)
        await self._send(text)
        if "_after_action" in handlers and text.startswith("[3"):
            self._run_after(handlers["_after_action"], frame.payload)

    async def _answer(self, frame: CallFrame, handlers: dict[str, Any]) -> dict[str, Any]:
        if frame.action != "BootNotification" and self.hub.admission.held(self.id):
            held_answer = self.while_held(frame.action, frame.payload)
            if held_answer is not None:
                return held_answer
        if "_on_action" not in handlers:
            if validation.has_schema(self.ocpp_version, frame.action):
                raise RpcError(
                    RpcCode.NOT_SUPPORTED, f"{frame.action} is not supported by this central system"
                )
            raise RpcError(
                RpcCode.NOT_IMPLEMENTED, f"{frame.action} is not an OCPP {self.ocpp_version} action"
            )
        payload = self.prepare_payload(frame.action, frame.payload)
        if not handlers.get("_skip_schema_validation", False):
            if self._validate_in_thread:
                await asyncio.to_thread(
                    validation.check, self.ocpp_version, 2, frame.action, payload
                )
            elif not quickcheck.surely_valid(self.ocpp_version, frame.action, payload):
                validation.check(self.ocpp_version, 2, frame.action, payload)
        handler = handlers["_on_action"]
        result = handler(**snake_keys(payload))
        if isinstance(result, Awaitable):
            result = await result
        return cast(dict[str, Any], result)

    def while_held(self, action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """A CALL from a charger held for approval: None to handle it as usual (a notice from
        one waiting Pending: booted so on this connection, or before it reconnected), or the
        answer that refuses it (raised as CALLERROR SecurityError here)."""
        waiting = self.boot_answer == "Pending" or (
            self.boot_answer is None and self.id in self.hub.admission.pending
        )
        if waiting and action in HELD_NOTICES:
            return None
        _LOGGER.debug("%s: %s refused: not approved (boot %s)", self.id, action, self.boot_answer)
        raise RpcError(
            RpcCode.SECURITY_ERROR,
            f"{action} refused: charge point {self.id} is not approved"
            f" (boot {self.boot_answer or 'not answered yet'})",
        )

    def prepare_payload(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Hook for charger quirks that must be smoothed before schema validation."""
        return payload

    def _run_after(self, hook: Callable[..., Any], payload: dict[str, Any]) -> None:
        try:
            result = hook(**snake_keys(payload))
        except Exception:
            _LOGGER.exception("%s: after-hook failed", self.id)
            return
        if asyncio.iscoroutine(result):
            self.spawn(result)

    def _remember(self, unique_id: str, raw: str, answer: str) -> None:
        self._answered[unique_id] = (hash(raw), answer)
        while len(self._answered) > RECENT_IDS:
            self._answered.popitem(last=False)

    def _on_answer(self, frame: ResultFrame | ErrorFrame) -> None:
        pending = self._pending
        if pending is None or pending.unique_id != frame.unique_id or pending.future.done():
            _LOGGER.info("%s: dropping answer %s to no pending CALL", self.id, frame.unique_id)
            return
        if isinstance(frame, ErrorFrame):
            pending.future.set_exception(
                CallErrorReceived(self.id, pending.action, frame.code, frame.description)
            )
            return
        try:
            validation.check(self.ocpp_version, CALLRESULT, pending.action, frame.payload)
        except RpcError as err:  # lenient: many chargers add or omit a field; say so and go on
            _LOGGER.warning("%s: %s answer off-schema: %s", self.id, pending.action, err)
        pending.future.set_result(frame.payload)

    # ---- sending ---------------------------------------------------------------------------
    async def request(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a CALL and return the charger's answer payload; one outstanding at a time."""
        try:
            validation.check(self.ocpp_version, 2, action, payload)
        except RpcError as err:
            raise InvalidRequest(f"{action}: {err.description}") from None
        async with self._call_lock:
            if self.closed:
                raise ChargePointOffline(self.id)
            unique_id = str(uuid.uuid4())
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._pending = _PendingCall(unique_id, action, future)
            try:
                await self.connection.send(call_text(unique_id, action, payload))
                return await asyncio.wait_for(future, self.call_timeout)
            except TimeoutError:
                raise CallTimeout(self.id, action, self.call_timeout) from None
            except ConnectionClosed:
                raise ChargePointOffline(self.id) from None
            finally:
                self._pending = None
                # A shutdown may fail the future while the send was still under way (or this
                # task was cancelled): the caller already has its error, so mark it read.
                if future.done() and not future.cancelled():
                    future.exception()
                else:
                    future.cancel()

    async def _send(self, text: str) -> None:
        try:
            await self.connection.send(text)
        except ConnectionClosed:
            _LOGGER.info("%s: closed before our answer went out", self.id)

    def _error_text(
        self, unique_id: str, code: RpcCode, description: str, details: dict[str, Any] | None = None
    ) -> str:
        return call_error_text(unique_id, code, description, self.ocpp_version, details)

    async def send_error(self, unique_id: str, code: RpcCode, description: str) -> None:
        await self._send(self._error_text(unique_id, code, description))

    async def accept_boot(
        self, vendor: str, model: str, firmware: str | None, serial: str | None
    ) -> dict[str, Any]:
        """Record a BootNotification; the answer both versions give."""
        self.booted = True
        state = await self.hub.boot(self.id, vendor, model, firmware, serial)
        # or Pending until approved, Rejected when too many wait already (admission.py)
        status = self.boot_answer = state.boot_status or "Accepted"
        return {
            "status": status,
            "currentTime": to_wire(self.hub.clock()),
            "interval": self.hub.admission.boot_interval(status),
        }

    # ---- handlers alike in both versions (the route map finds inherited ones) --------------
    @after("BootNotification")
    async def after_boot_notification(self, **_: Any) -> None:
        if self.boot_answer == "Rejected":
            return  # nothing goes to a Rejected charger (2.0.1 B03.FR.08) until it boots again
        await self.configure()

    @on("Heartbeat")
    def on_heartbeat(self, **_: Any) -> dict[str, Any]:
        return {"currentTime": to_wire(self.hub.clock())}

    @on("FirmwareStatusNotification")
    def on_firmware_status(self, status: str, **extra: Any) -> dict[str, Any]:
        self.firmware_status(status, extra.get("request_id"))
        return {}

    def firmware_status(
        self, status: str, request_id: int | None, action: str = "FirmwareStatusNotification"
    ) -> None:
        note: dict[str, Any] = {"status": status}
        if request_id is not None:
            note["requestId"] = request_id
        self.notify(action, note)
        firmware.record_status(self.hub, self.id, status, request_id)

    @on("DataTransfer")
    def on_data_transfer(self, vendor_id: str, **extra: Any) -> dict[str, Any]:
        note = {
            "vendorId": vendor_id,
            "messageId": extra.get("message_id"),
            "data": extra.get("data"),
        }
        self.notify("DataTransfer", note)
        return {"status": "UnknownVendorId"}  # no vendor extensions are understood here

    def notify(self, action: str, payload: dict[str, Any]) -> None:
        """Pass a message on as-is (logbook): DataTransfer, firmware and diagnostics news."""
        self.hub.bus.emit(ChargerNotified(self.id, self.hub.clock(), action, payload))

    # ---- commands each version implements (version-neutral arguments) ----------------------
    async def configure(self) -> None:
        """Read the configuration, set meter sampling, sync the local list (after boot)."""
        raise NotImplementedError

    async def remote_start(self, connector_id: int, id_tag: str) -> dict[str, Any]:
        raise NotImplementedError

    async def remote_stop(self, tx: Transaction) -> dict[str, Any]:
        raise NotImplementedError

    async def change_availability(self, connector_id: int, operative: bool) -> dict[str, Any]:
        raise NotImplementedError

    async def set_charging_profile(self, connector_id: int, spec: ProfileSpec) -> dict[str, Any]:
        raise NotImplementedError

    async def clear_charging_profile(self, connector_id: int, purpose: str) -> dict[str, Any]:
        raise NotImplementedError

    async def local_list_version(self) -> int:
        raise NotImplementedError

    async def reserve_now(self, reservation: Reservation) -> dict[str, Any]:
        raise NotImplementedError

    async def cancel_reservation(self, reservation_id: int) -> dict[str, Any]:
        return await self.request("CancelReservation", {"reservationId": reservation_id})

    def reservations_refused(self) -> str | None:
        """Why the charger cannot take reservations (its feature profiles), or None."""
        return None

    async def send_local_list(
        self, version: int, full: bool, cards: Sequence[Card], now: datetime
    ) -> dict[str, Any]:
        raise NotImplementedError

    def local_list_batch_size(self) -> int:
        raise NotImplementedError

    def local_list_supported(self) -> bool:
        raise NotImplementedError

    # ---- lifetime --------------------------------------------------------------------------
    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("%s: background work failed", self.id, exc_info=task.exception())

    async def shutdown(self) -> None:
        self.closed = True
        pending = self._pending
        if pending is not None and not pending.future.done():
            pending.future.set_exception(ChargePointOffline(self.id))
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
