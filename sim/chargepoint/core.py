"""`SimChargePoint`: a charger with one or more connectors and a car, over real websockets.

`connectors` is how many sockets the box reports (StatusNotification for each at connect;
1.6 NumberOfConnectors); the car is on socket `connector_id`. The other sockets stay
Available: one car per simulated box (a dual-socket box with a car on socket 2 is
`connectors=2, connector_id=2`).

It keeps what a real charger keeps across a lost connection: transaction messages wait in a
queue (in order) and go out after reconnecting, so a central system that crashed mid-session
still receives the StopTransaction. Time can run faster than real time (`speed`), and the
clock can be replaced (offline backlogs with old timestamps). A site `Clock` (a `ScaledClock`
shared with the local site) also paces the charger's own timers: sampling, heartbeats and
reconnects run on its time. `draw_listeners` hear every change of what the car draws.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from custom_components.eflux.core.clock import Clock, Now, as_clock

from .adapter import ProtocolAdapter, adapter_class
from .behaviour import SimBehaviour
from .car import MIN_CHARGING_AMPS, NOMINAL_VOLTAGE, Car
from .driver import DriverActions
from .phases import PhaseSwitch
from .profiles import ProfileBook, composite
from .reservations import SimReservations
from .transaction import SimSample, SimTransaction

_LOGGER = logging.getLogger(__name__)
Builder = Callable[[], Any]
OnResult = Callable[[Any], None]


class SimOffline(Exception):
    """The simulated charger has no connection right now."""


class SimChargePoint(DriverActions, PhaseSwitch):
    def __init__(
        self,
        url: str,
        cp_id: str,
        version: str = "1.6",
        car: Car | None = None,
        *,
        vendor: str = "E-Flux",
        model: str = "SimCharger",
        firmware: str = "sim-1.0",
        serial: str | None = None,
        password: str | None = None,
        max_current_a: float = 32.0,
        register_wh: float = 1_000_000.0,
        behaviour: SimBehaviour | None = None,
        clock: Clock | Now | None = None,
        speed: float = 1.0,
        reconnect_delay: float = 0.5,
        call_timeout: float = 10.0,
        meter_interval: float | None = None,
        configuration: dict[str, str] | None = None,
        connectors: int = 1,
        connector_id: int = 1,
    ) -> None:
        if version not in ("1.6", "2.0.1"):
            raise ValueError(f"OCPP version must be 1.6 or 2.0.1, not {version!r}")
        if not 1 <= connector_id <= connectors:
            raise ValueError(f"the car's connector {connector_id} is not one of 1..{connectors}")
        self.url = url.rstrip("/")
        self.id = cp_id
        self.version = version
        self.car = car or Car()
        self.connectors = connectors
        self.connector_id = connector_id  # the socket the car uses
        self.vendor, self.model, self.firmware, self.serial = vendor, model, firmware, serial
        self.password = password
        self.max_current_a = max_current_a
        self.register_wh = register_wh
        self.behaviour = behaviour or SimBehaviour()
        self.clock: Now = clock or (lambda: datetime.now(UTC))
        self.timers = as_clock(self.clock)  # what sampling, heartbeats and reconnects wait on
        self.speed = speed
        self.reconnect_delay = reconnect_delay
        self.call_timeout = call_timeout
        self.meter_interval = meter_interval  # None: what the central system configures
        # Observable state
        self.connected = asyncio.Event()
        self.booted = asyncio.Event()
        self.boot_count = 0
        self.heartbeat_interval = 300
        self.plugged = False
        self.transaction: SimTransaction | None = None
        self.finished: list[SimTransaction] = []
        self.status = "Available"
        self.available = True
        self.amps = 0.0
        self.draw_listeners: list[Callable[[SimChargePoint], None]] = []
        self.limit_a: float | None = None  # from charging profiles; None = no profile
        self.profiles = ProfileBook()
        self.reservations = SimReservations(self)
        # 1.6 keys or 2.0.1 "Component.Variable"; defaults of the adapter fill what is missing
        self.configuration: dict[str, str] = dict(configuration or {})
        self.local_list: dict[str, str] = {}
        self.local_list_version = 0
        self.received: list[tuple[str, dict[str, Any]]] = []  # CALLs from the central system
        self.sent_samples: list[tuple[int, str | None, SimSample]] = []
        self.close_reason: str | None = None
        self.reboot_pending = False  # after a firmware install: boot on the next connection
        self.firmware_downloads: list[bytes | None] = []  # what each update fetched
        self.firmware_gate: asyncio.Event | None = None  # set: downloads wait for it
        self._queue: deque[tuple[Builder, OnResult | None]] = deque()
        self._flush_lock = asyncio.Lock()
        self._adapter: ProtocolAdapter | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._link_tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._last_advance: datetime | None = None
        self._ignore_next_limit = False

    # ---- lifetime -----------------------------------------------------------------------------
    async def run(self) -> None:
        """Stay connected (reconnecting after any loss) until `close()`."""
        while not self._closing:
            try:
                await self._connect_once()
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError) as err:
                _LOGGER.debug("%s: connection ended: %r", self.id, err)
            if self._closing:
                break
            await self.timers.sleep(self.reconnect_delay)

    async def start(self, wait_s: float = 10.0) -> None:
        """Run in the background and wait until booted (tests and benches)."""
        self.spawn(self.run())
        await asyncio.wait_for(self.booted.wait(), wait_s)

    async def close(self) -> None:
        self._closing = True
        adapter = self._adapter
        if adapter is not None:
            await adapter.connection.close()
        for task in list(self._tasks | self._link_tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, *self._link_tasks, return_exceptions=True)

    async def drop_connection(self) -> None:
        """Lose the connection (network outage); `run()` reconnects."""
        if self._adapter is not None:
            await self._adapter.connection.close(1001, "simulated outage")

    def spawn(self, work: Coroutine[Any, Any, Any], *, link: bool = False) -> asyncio.Task[Any]:
        tasks = self._link_tasks if link else self._tasks
        task = asyncio.get_running_loop().create_task(work)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return task

    async def _connect_once(self) -> None:
        headers = {}
        # A password the central system set (rotation) replaces the one it started with.
        password = (
            self.configuration.get("AuthorizationKey")
            or self.configuration.get("SecurityCtrlr.BasicAuthPassword")
            or self.password
        )
        if password is not None:
            token = base64.b64encode(f"{self.id}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        subprotocol = "ocpp1.6" if self.version == "1.6" else "ocpp2.0.1"
        async with connect(
            f"{self.url}/{self.id}",
            subprotocols=[subprotocol],  # type: ignore[list-item]
            additional_headers=headers,
            open_timeout=self.call_timeout,
            ping_interval=None,
        ) as connection:
            adapter = adapter_class(self.version)(self, connection)
            self._adapter = adapter
            reader = self.spawn(adapter.start(), link=True)
            try:
                await self._on_connected(adapter)
                await reader
            finally:
                self.close_reason = connection.close_reason
                self._adapter = None
                self.connected.clear()
                for task in list(self._link_tasks):
                    task.cancel()

    async def _on_connected(self, adapter: ProtocolAdapter) -> None:
        if self.boot_count == 0 or self.behaviour.boot_on_reconnect or self.reboot_pending:
            self.reboot_pending = False
            self.heartbeat_interval = await adapter.boot()
            self.boot_count += 1
        self.connected.set()
        for connector in range(1, self.connectors + 1):
            idle = self.reservations.idle_status(connector)
            await adapter.status(connector, self.status if connector == self.connector_id else idle)
        if self.behaviour.replays_meter_backlog:
            for connector_id, tx_id, sample in list(self.sent_samples):
                await adapter.request(adapter.meter_message(connector_id, sample, tx_id))
        await self.flush()
        self.booted.set()
        self.spawn(self._heartbeats(adapter), link=True)
        self.spawn(self._sampling(), link=True)

    async def _heartbeats(self, adapter: ProtocolAdapter) -> None:
        while True:
            await self.timers.sleep(max(1, self.heartbeat_interval))
            await adapter.heartbeat()

    async def _sampling(self) -> None:
        """Sample every interval. A newly configured interval applies within a second, as on a
        real charger (sleeping the whole default 60 s first left a charger configured right
        after its boot unmeasured for a minute)."""
        clock = self.timers
        last = clock.monotonic()
        while True:
            interval = max(0.05, self.meter_interval or self.configured_interval())
            wait = last + interval - clock.monotonic()
            if wait > 0:
                # naps of 1 s notice a newly configured interval; a fixed one needs none
                await clock.sleep(wait if self.meter_interval else min(wait, 1.0))
                continue
            last = clock.monotonic()
            # an unanswered sample is not retried (a real charger takes the next one)
            with contextlib.suppress(TimeoutError, SimOffline, ConnectionClosed):
                await self.sample_now()

    def configured_interval(self) -> float:
        raw = self.configuration.get("MeterValueSampleInterval") or self.configuration.get(
            "SampledDataCtrlr.TxUpdatedInterval"
        )
        try:
            return float(raw) if raw else 60.0
        except ValueError:
            return 60.0

    # ---- sending ------------------------------------------------------------------------------
    @property
    def adapter(self) -> ProtocolAdapter:
        if self._adapter is None or not self.connected.is_set():
            raise SimOffline(self.id)
        return self._adapter

    async def call(self, payload: Any) -> Any:
        return await self.adapter.request(payload)

    async def queue(self, build: Builder, on_result: OnResult | None = None) -> None:
        """A transaction message: kept until the central system has answered it."""
        self._queue.append((build, on_result))
        await self.flush()

    async def flush(self) -> None:
        async with self._flush_lock:
            while self._queue and self._adapter is not None:
                build, on_result = self._queue[0]
                try:
                    result = await self._adapter.request(build())
                except (ConnectionClosed, TimeoutError, SimOffline):
                    return
                self._queue.popleft()
                if on_result is not None:
                    on_result(result)

    @property
    def queued(self) -> int:
        return len(self._queue)

    # ---- the car and the meter ----------------------------------------------------------------
    def offered_a(self, at: datetime | None = None) -> float:
        """What the charger lets the car draw now (or at `at`, as its profiles stand now)."""
        if not self.available:
            return 0.0
        tx = self.transaction
        when = self.clock() if at is None else at
        limit = self.profiles.limit(self.connector_id, tx.id if tx else None, when, self.car.phases)
        if self.behaviour.ignores_profiles:
            limit = None
        offered = self.max_current_a if limit is None else min(limit, self.max_current_a)
        return max(0.0, offered)

    def composite(self, start: datetime, duration: int) -> list[dict[str, Any]]:
        """GetCompositeSchedule's periods: what it will offer from `start` for `duration` s."""
        edges = self.profiles.edges(start, start + timedelta(seconds=duration))
        return composite(self.offered_a, edges)

    def advance(self) -> None:
        """Let the car draw current up to now, then follow the current limit."""
        now = self.clock()
        if self._last_advance is not None and self.transaction is not None:
            seconds = (now - self._last_advance).total_seconds() * self.speed
            self.register_wh += self.car.charge(self.amps, seconds, self.drawing_phases)
        self._last_advance = now
        self.note_phases(now)
        offered = self.offered_a()
        self.limit_a = offered if offered < self.max_current_a else None
        drawn = self.amps
        self.amps = self.car.current_for(offered) if self.transaction and self.plugged else 0.0
        if self.amps != drawn:
            for listener in tuple(self.draw_listeners):
                listener(self)
        if self.transaction is None:
            new_status = self.reservations.idle_status(self.connector_id, self.plugged)
        elif self.amps > 0:
            new_status = "Charging"
        elif self.car.full:
            new_status = "SuspendedEV"
        else:
            new_status = "SuspendedEVSE" if offered < MIN_CHARGING_AMPS else "SuspendedEV"
        if not self.available and self.transaction is None:
            new_status = "Unavailable"
        if new_status != self.status:
            self.status = new_status
            if self._adapter is not None and self.connected.is_set():
                self.spawn(self._send_status())

    async def _send_status(self) -> None:
        with contextlib.suppress(SimOffline, ConnectionClosed, TimeoutError):
            await self.adapter.status(self.connector_id, self.status)

    def sample(self, context: str | None = None) -> SimSample:
        self.advance()
        per_phase = tuple(self.amps if i < self.drawing_phases else 0.0 for i in range(3))
        tx = self.transaction
        return SimSample(
            timestamp=self.clock(),
            register_wh=round(self.register_wh, 1),
            power_w=round(self.amps * self.drawing_phases * NOMINAL_VOLTAGE, 1),
            current_a=(per_phase[0], per_phase[1], per_phase[2]),
            voltage_v=NOMINAL_VOLTAGE,
            soc=round(self.car.soc, 1) if self.plugged else None,
            offered_a=self.offered_a(),
            context=context or self.behaviour.meter_context,
            session_wh=round(self.register_wh - tx.meter_start_wh, 1) if tx else 0.0,
        )

    async def sample_now(self) -> None:
        """Take a meter sample and send it (in the transaction queue when one runs)."""
        sample = self.sample()
        await self.send_sample(sample, self.connector_id)

    async def send_sample(self, sample: SimSample, connector_id: int = 1) -> None:
        tx = self.transaction
        if tx is None:
            if self.connected.is_set():
                self.sent_samples.append((connector_id, None, sample))
                await self.call(self._require_adapter().meter_message(connector_id, sample, None))
            return
        tx_ref = tx

        def build() -> Any:
            tx_id = tx_ref.id or tx_ref.local_id
            if self.behaviour.keeps_local_transaction_id:
                tx_id = tx_ref.local_id
            return self._require_adapter().update_message(tx_ref, sample, tx_id)

        self.sent_samples.append((connector_id, tx.id or tx.local_id, sample))
        await self.queue(build)

    def _require_adapter(self) -> ProtocolAdapter:
        if self._adapter is None:
            raise SimOffline(self.id)
        return self._adapter

    # ---- helpers for tests ----------------------------------------------------------------------
    async def wait_for(self, predicate: Callable[[], bool], wait_s: float = 5.0) -> None:
        deadline = asyncio.get_running_loop().time() + wait_s
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{self.id}: condition not met within {wait_s} s")
            await asyncio.sleep(0.01)

    def calls(self, action: str) -> list[dict[str, Any]]:
        return [payload for name, payload in self.received if name == action]

    async def wait_for_call(
        self, action: str, count: int = 1, wait_s: float = 5.0
    ) -> dict[str, Any]:
        await self.wait_for(lambda: len(self.calls(action)) >= count, wait_s)
        return self.calls(action)[count - 1]
