"""The demo's child processes: readiness, a clear error when one fails, and a stop that always
ends them (SIGKILL after the grace time), including what they started themselves."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from sim.demo.procs import Children, StartupError, free_port, port_open

PY = sys.executable


async def test_ready_line_and_port_then_stopped(tmp_path: Path) -> None:
    children = Children(tmp_path / "logs")
    port = free_port()
    server = (
        f"import socket,time;s=socket.socket();s.bind(('127.0.0.1',{port}));s.listen();"
        "print('ready now',flush=True);time.sleep(60)"
    )

    async def listening() -> bool:
        return await port_open(port)

    child = await children.start("srv", [PY, "-c", server], ready_line="^ready", ready=listening)
    assert child.running
    assert "ready now" in child.lines
    await children.stop_all()
    assert not child.running
    assert not await port_open(port)
    assert "ready now" in (tmp_path / "logs" / "srv.log").read_text()


async def test_a_child_that_exits_while_starting_is_a_clear_error(tmp_path: Path) -> None:
    children = Children(tmp_path / "logs")
    script = "import sys; print('config broken', file=sys.stderr); sys.exit(3)"
    with pytest.raises(StartupError, match=r"bad exited with code 3[\s\S]*config broken"):
        await children.start("bad", [PY, "-c", script], ready_line="^never")
    await children.stop_all()


async def test_a_child_that_never_gets_ready_times_out(tmp_path: Path) -> None:
    children = Children(tmp_path / "logs")
    with pytest.raises(StartupError, match="slow was not ready within 1 s"):
        await children.start(
            "slow", [PY, "-c", "import time; time.sleep(60)"], ready_line="^x", timeout_s=1
        )
    assert children.started[0].running
    await children.stop_all()
    assert children.started == []


async def test_a_missing_program_is_a_clear_error(tmp_path: Path) -> None:
    children = Children(tmp_path / "logs")
    with pytest.raises(StartupError, match="cannot start"):
        await children.start("ghost", [str(tmp_path / "no-such-program")])


async def test_stop_kills_a_child_ignoring_sigterm_and_its_own_children(tmp_path: Path) -> None:
    children = Children(tmp_path / "logs")
    pid_file = tmp_path / "grandchild.pid"
    script = (
        "import signal,subprocess,sys,time;signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        f"p=subprocess.Popen([sys.executable,'-c','import time; time.sleep(60)']);"
        f"open({str(pid_file)!r},'w').write(str(p.pid));print('up',flush=True);time.sleep(60)"
    )
    child = await children.start("stubborn", [PY, "-c", script], ready_line="^up")
    grandchild = int(pid_file.read_text())
    await children.stop_all(grace_s=0.5)
    assert child.process is not None
    assert child.process.returncode == -9
    # SIGKILL went to the whole group; the grandchild may still be on its way out.
    for _ in range(200):
        if not _alive(grandchild):
            break
        await asyncio.sleep(0.01)
    assert not _alive(grandchild)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie waiting for its (killed) parent's reaper is gone for our purposes
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())
