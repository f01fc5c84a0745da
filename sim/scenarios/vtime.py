"""An asyncio event loop on simulated time that skips what it would spend waiting.

Time is the real monotonic clock plus an offset. Whenever the loop has nothing to run, no I/O
is waiting and no other thread is at work, the offset jumps to the next timer, so idle stretches
(a charger's next sample, the meter's next poll) cost nothing while work (a balancing pass, an
OCPP round trip over a loopback socket) takes exactly as long as it really takes. Results
therefore hardly depend on how busy the machine is, unlike a `ScaledClock`, which multiplies
every delay the machine adds. `LoopClock` is the site `Clock` on that loop's time.

Threads (aiosqlite runs each query on its own thread and answers through the loop's self-pipe)
are waited for in real time: a thread counts as idle while it waits on its queue. So are bytes
just written to a socket: the kernel may deliver them to the peer (here: in this very process)
a little later, so after a write the loop waits up to `WRITE_GRACE_S` of real time for I/O.
"""

from __future__ import annotations

import asyncio
import linecache
import selectors
import sys
import threading
from datetime import datetime, timedelta
from typing import Any

WRITE_GRACE_S = 0.0005  # real seconds the loop waits for an answer to bytes it just wrote
IDLE_GRACE_S = 0.0001  # real seconds it waits for late I/O before any skip
THREAD_WAIT_S = 0.001  # real seconds the loop waits for a busy thread before it looks again
# Where an idle worker thread waits for its next job, and the name of its job queue there:
# asyncio.to_thread's executor workers and aiosqlite's one thread per connection.
_IDLE_SPOTS = {"_worker": "work_queue", "_connection_worker_thread": "tx"}
_WAITING = frozenset({"wait", "_wait_for_tstate_lock"})  # threading: Event/Condition/join


def threads_busy() -> bool:
    """True unless every other thread waits for work that is not there (conservative: a thread
    doing anything else counts as busy, and the loop then waits for it in real time)."""
    me = threading.get_ident()
    for ident, frame in sys._current_frames().items():
        if ident == me or frame.f_code.co_name in _WAITING:
            continue
        queue_name = _IDLE_SPOTS.get(frame.f_code.co_name)
        if queue_name is None:
            return True
        if ".get(" not in linecache.getline(frame.f_code.co_filename, frame.f_lineno):
            return True  # the worker is between jobs, running one
        queue = frame.f_locals.get(queue_name)
        if queue is None or not queue.empty():
            return True  # a job was queued and the worker has not picked it up yet
    return False


class _SkippingSelector(selectors.SelectSelector):  # select(2): timeouts finer than 1 ms
    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualTimeLoop | None = None

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None or timeout <= 0 or self.loop is None:
            return super().select(timeout)
        ready = super().select(min(timeout, IDLE_GRACE_S))
        if ready:
            return ready
        timeout -= IDLE_GRACE_S
        if self.loop.wrote:
            self.loop.wrote = False
            ready = super().select(min(timeout, WRITE_GRACE_S))
            if ready:
                return ready
            timeout -= WRITE_GRACE_S
        if threads_busy():
            return super().select(min(max(timeout, 0.0), THREAD_WAIT_S))
        if timeout > 0:
            self.loop.skip(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        selector = _SkippingSelector()
        super().__init__(selector)
        selector.loop = self
        self.skipped_s = 0.0
        self.wrote = False  # bytes went out since the loop last waited

    def _make_socket_transport(self, *args: Any, **kwargs: Any) -> Any:
        transport = super()._make_socket_transport(*args, **kwargs)  # type: ignore[misc]
        write, writelines = transport.write, transport.writelines

        def noted_write(data: Any) -> None:
            self.wrote = True
            write(data)

        def noted_writelines(lines: Any) -> None:
            self.wrote = True
            writelines(lines)

        transport.write, transport.writelines = noted_write, noted_writelines
        return transport

    def time(self) -> float:
        return super().time() + self.skipped_s

    def skip(self, seconds: float) -> None:
        self.skipped_s += seconds


class LoopClock:
    """The site clock on the running loop's time: `now()` starts at `start`."""

    scale = 1.0  # timeouts of libraries (pymodbus) run on the same loop: nothing to convert

    def __init__(self, start: datetime, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._origin = loop.time()
        self.start = start

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.monotonic())

    def monotonic(self) -> float:
        return self._loop.time() - self._origin

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def __call__(self) -> datetime:
        return self.now()

    def __repr__(self) -> str:
        return f"LoopClock(start={self.start.isoformat()})"


def run_virtual(main: Any) -> Any:
    """`asyncio.run(main)` on a `VirtualTimeLoop`."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main)
