"""One demo per work dir: `<workdir>/demo.pid` held with an exclusive lock while it runs.

The lock goes with the process (also when it is killed), so a pid file left behind by a
crashed demo never blocks the next one; a second demo on the same work dir (whose databases
the first one uses) stops at once and names the running one.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import TextIO

PID_FILE = "demo.pid"


class DemoRunning(Exception):
    def __init__(self, workdir: Path, pid: str) -> None:
        super().__init__(
            f"another demo (pid {pid or '?'}) runs in {workdir}; stop it first (Ctrl-C in its"
            f" terminal, or kill {pid or '<pid>'})"
        )


def hold(workdir: Path) -> TextIO:
    """Take the work dir's lock (OSError when the dir cannot be made, DemoRunning when taken);
    keep the returned file open while running."""
    workdir.mkdir(parents=True, exist_ok=True)
    handle = (workdir / PID_FILE).open("a+", encoding="ascii")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        pid = handle.read().strip()
        handle.close()
        raise DemoRunning(workdir, pid) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle
