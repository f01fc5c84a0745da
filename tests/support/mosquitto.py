"""A real Mosquitto broker on a free loopback port, started from the Debian binary.

When the binary is missing, the machine's own broker on 127.0.0.1:1883 is used if it answers
(it cannot be restarted by tests); when neither exists the caller skips with the reason.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .ports import LOOPBACK, free_port, port_answers, wait_for_port

SYSTEM_BROKER_PORT = 1883


def mosquitto_binary() -> str | None:
    """Path of the mosquitto executable, if installed."""
    found = shutil.which("mosquitto")
    if found:
        return found
    debian = Path("/usr/sbin/mosquitto")
    return str(debian) if debian.exists() else None


class MosquittoBroker:
    """One broker process; `restart()` keeps its port so clients can reconnect."""

    def __init__(self, workdir: Path, extra_config: str = "") -> None:
        self.host = LOOPBACK
        self.port = free_port()
        self._workdir = workdir
        self._extra_config = extra_config
        self._process: subprocess.Popen[bytes] | None = None
        self.external = False

    @classmethod
    def system(cls, workdir: Path) -> MosquittoBroker:
        """The machine's already running broker (no start/stop control)."""
        broker = cls(workdir)
        broker.port = SYSTEM_BROKER_PORT
        broker.external = True
        return broker

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self) -> None:
        if self.external:
            return
        binary = mosquitto_binary()
        if binary is None:
            raise RuntimeError("mosquitto binary not installed")
        config = self._workdir / f"mosquitto-{self.port}.conf"
        config.write_text(
            f"listener {self.port} {self.host}\n"
            "allow_anonymous true\n"
            "persistence false\n"
            "log_dest stderr\n"
            "log_type error\n"
            "log_type warning\n"
            f"{self._extra_config}\n"
        )
        log = (self._workdir / f"mosquitto-{self.port}.log").open("ab")
        self._process = subprocess.Popen([binary, "-c", str(config)], stdout=log, stderr=log)
        try:
            wait_for_port(self.port, self.host)
        except TimeoutError:
            self.stop()
            raise

    def stop(self) -> None:
        if self.external or self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def restart(self) -> None:
        if self.external:
            raise RuntimeError("the machine's own broker cannot be restarted by tests")
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.external or (self._process is not None and self._process.poll() is None)


def broker_or_reason(workdir: Path, extra_config: str = "") -> MosquittoBroker | str:
    """A started broker, or the reason why none can be had."""
    if mosquitto_binary() is not None:
        broker = MosquittoBroker(workdir, extra_config)
        broker.start()
        return broker
    if not extra_config and port_answers(SYSTEM_BROKER_PORT):
        return MosquittoBroker.system(workdir)
    return (
        "no Mosquitto: the Debian package 'mosquitto' is not installed and no broker answers "
        f"on {LOOPBACK}:{SYSTEM_BROKER_PORT} (scripts/test installs it when run as root)"
    )
