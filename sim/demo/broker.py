"""The demo's MQTT broker: a private Mosquitto on a free loopback port when the binary is on the
PATH (or Debian's /usr/sbin), otherwise the embedded amqtt broker (`sim.demo.embedded_broker`)."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from .procs import LOOPBACK, Children, free_port, port_open


@dataclass(frozen=True, slots=True)
class Broker:
    host: str
    port: int
    kind: str  # "mosquitto" or "amqtt"


def mosquitto_binary() -> str | None:
    found = shutil.which("mosquitto")
    if found:
        return found
    debian = Path("/usr/sbin/mosquitto")
    return str(debian) if debian.is_file() else None


async def start_broker(children: Children, workdir: Path, *, embedded: bool = False) -> Broker:
    port = free_port()

    async def ready() -> bool:
        return await port_open(port)

    binary = None if embedded else mosquitto_binary()
    if binary is not None:
        config = workdir / "mosquitto.conf"
        config.write_text(
            f"listener {port} {LOOPBACK}\nallow_anonymous true\npersistence false\n"
            "log_dest stderr\nlog_type error\nlog_type warning\n",
            encoding="utf-8",
        )
        await children.start("mosquitto", [binary, "-c", str(config)], ready=ready)
        return Broker(LOOPBACK, port, "mosquitto")
    await children.start(
        "amqtt",
        [sys.executable, "-m", "sim.demo.embedded_broker", "--port", str(port)],
        ready_line=r"^ready port=",
        ready=ready,
    )
    return Broker(LOOPBACK, port, "amqtt")
