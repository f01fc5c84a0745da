"""The skipping loop: idle time costs nothing, but I/O and threads are never skipped over."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

from sim.scenarios.vtime import LoopClock, VirtualTimeLoop, run_virtual, threads_busy


def test_an_hour_of_sleep_is_skipped_and_the_clock_follows() -> None:
    async def main() -> tuple[float, float, datetime]:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, VirtualTimeLoop)
        clock = LoopClock(datetime(2026, 6, 15, tzinfo=UTC), loop)
        before = loop.time()
        await clock.sleep(3600)
        return loop.time() - before, loop.skipped_s, clock.now()

    elapsed, skipped, now = run_virtual(main())
    assert 3600 <= elapsed < 3600.5
    assert skipped >= 3599
    assert now - datetime(2026, 6, 15, tzinfo=UTC) >= timedelta(hours=1)


def test_a_reply_over_a_socket_comes_before_a_later_timer() -> None:
    """An echo over loopback TCP must arrive before a timer 10 s away fires."""

    async def main() -> list[str]:
        events: list[str] = []

        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while line := await reader.readline():
                writer.write(line)
                await writer.drain()

        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        timer = asyncio.get_running_loop().call_later(10, events.append, "timer")
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(50):
            writer.write(b"ping\n")
            events.append((await reader.readline()).decode().strip())
        events.append("timer pending" if "timer" not in events else "timer fired")
        writer.close()
        server.close()
        timer.cancel()
        return events

    events = run_virtual(main())
    assert events == ["ping"] * 50 + ["timer pending"]


def test_work_on_a_thread_is_waited_for_not_skipped() -> None:
    async def main() -> tuple[float, bool]:
        loop = asyncio.get_running_loop()
        before = loop.time()
        # a slow query on a thread while a timer 60 s away is pending: the loop must not jump
        timer = loop.call_later(60, lambda: None)
        await asyncio.to_thread(time.sleep, 0.2)
        timer.cancel()
        return loop.time() - before, threads_busy()

    elapsed, busy_after = run_virtual(main())
    assert elapsed < 5  # skipping would have jumped to the timer, 60 s on
    assert busy_after is False


def test_a_running_thread_counts_as_busy() -> None:
    stop = threading.Event()
    spinning = threading.Thread(target=lambda: [None for _ in iter(stop.is_set, True)])
    spinning.start()
    try:
        assert threads_busy()
    finally:
        stop.set()
        spinning.join()
