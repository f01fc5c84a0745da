"""Child processes of the demo: started with a log file each, waited for until ready, and all
stopped (SIGTERM, then SIGKILL) on any way out: normal end, Ctrl-C or an error.

Each child runs in its own session (process group), so what it starts in turn is stopped too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK = "127.0.0.1"


class StartupError(RuntimeError):
    """A part of the demo did not start; the message says which and where its log is."""


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


async def port_open(port: int, host: str = LOOPBACK) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    log: Path
    process: asyncio.subprocess.Process | None = None
    lines: list[str] = field(default_factory=list)  # what it printed on stdout (kept short)
    _reader: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def tail(self, n: int = 15) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-n:])


class Children:
    """The demo's child processes, stopped in reverse order of starting."""

    def __init__(self, log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.log_dir = log_dir
        self.env = env
        self.started: list[Child] = []

    async def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        ready_line: str | None = None,
        ready: Callable[[], Awaitable[bool]] | None = None,
        timeout_s: float = 30.0,
        cwd: Path | None = None,
    ) -> Child:
        """Start `argv`; ready when stdout prints a line matching `ready_line` (a regex) and/or
        when `ready()` returns True. Raises `StartupError` (with the log's tail) otherwise."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        child = Child(name, list(argv), self.log_dir / f"{name}.log")
        log = child.log.open("ab")
        try:
            child.process = await asyncio.create_subprocess_exec(
                *argv,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                stdin=asyncio.subprocess.DEVNULL,
                start_new_session=True,
                cwd=cwd,
                env=self.env,
            )
        except OSError as err:
            raise StartupError(f"{name}: cannot start {argv[0]}: {err}") from err
        finally:
            log.close()
        self.started.append(child)
        seen = asyncio.Event()
        pattern = re.compile(ready_line) if ready_line else None
        child._reader = asyncio.create_task(_pump(child, pattern, seen))
        try:
            await asyncio.wait_for(self._until_ready(child, pattern, seen, ready), timeout_s)
        except TimeoutError:
            raise StartupError(
                f"{name} was not ready within {timeout_s:.0f} s (log: {child.log})\n{child.tail()}"
            ) from None
        return child

    async def _until_ready(
        self,
        child: Child,
        pattern: re.Pattern[str] | None,
        seen: asyncio.Event,
        ready: Callable[[], Awaitable[bool]] | None,
    ) -> None:
        assert child.process is not None
        while True:
            if child.process.returncode is not None:
                raise StartupError(
                    f"{child.name} exited with code {child.process.returncode} while starting "
                    f"(log: {child.log})\n{child.tail()}"
                )
            if (pattern is None or seen.is_set()) and (ready is None or await ready()):
                return
            await asyncio.sleep(0.1)

    def failed(self) -> Child | None:
        """The first child that has exited on its own, if any."""
        return next((c for c in self.started if not c.running), None)

    async def stop_all(self, grace_s: float = 8.0) -> None:
        for child in reversed(self.started):
            await _stop(child, grace_s)
        self.started.clear()


async def _pump(child: Child, pattern: re.Pattern[str] | None, seen: asyncio.Event) -> None:
    """Copy the child's stdout into its log; note the readiness line."""
    assert child.process is not None
    assert child.process.stdout is not None
    with child.log.open("ab") as log:
        async for raw in child.process.stdout:
            log.write(raw)
            log.flush()
            line = raw.decode("utf-8", errors="replace").rstrip()
            if len(child.lines) < 200:
                child.lines.append(line)
            if pattern is not None and pattern.search(line):
                seen.set()


async def _stop(child: Child, grace_s: float) -> None:
    process = child.process
    if process is None:
        return
    if process.returncode is None:
        _signal_group(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), grace_s)
        except TimeoutError:
            _signal_group(process.pid, signal.SIGKILL)
            await process.wait()
    else:
        _signal_group(process.pid, signal.SIGKILL)  # anything it left behind in its group
    if child._reader is not None:
        child._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await child._reader


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
