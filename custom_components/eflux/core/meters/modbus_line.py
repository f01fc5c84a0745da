"""One Modbus connection shared by every device on it.

Several meters often hang on one RS485 bus (one USB stick) or behind one TCP gateway, and many
gateways accept a single connection. Each line (serial port, or host:port) therefore has one
pymodbus client and a lock: a poll of one device finishes before the next starts, so frames of
two devices never interleave. Devices on one serial line must share its serial settings (the
first user's are used).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from .config import MeterSourceConfig, SourceKind
from .modbus_io import ModbusReadError, connect, make_client, read_fields
from .profile import Profile

type LineKey = tuple[int, str, str]


class ModbusLine:
    _open: dict[LineKey, ModbusLine] = {}

    def __init__(self, key: LineKey, cfg: MeterSourceConfig, time_scale: float = 1.0) -> None:
        self.key = key
        self.cfg = cfg
        self.time_scale = time_scale  # of the site clock: request timeouts are in its seconds
        self.lock = asyncio.Lock()
        self.users = 0
        self.client: Any = None

    @classmethod
    def acquire(cls, cfg: MeterSourceConfig, time_scale: float = 1.0) -> ModbusLine:
        key = line_key(cfg)
        line = cls._open.get(key)
        if line is None:
            line = cls._open[key] = ModbusLine(key, cfg, time_scale)
        line.users += 1
        return line

    def release(self) -> None:
        self.users -= 1
        if self.users <= 0:
            self._open.pop(self.key, None)
            self._drop()

    async def read(self, profile: Profile, device_id: int) -> dict[str, float]:
        """Read one device's fields; connects first when needed. Raises ModbusReadError."""
        async with self.lock:
            try:
                if self.client is None or not self.client.connected:
                    self._drop()
                    self.client = make_client(self.cfg, self.time_scale)
                    await connect(self.client, self.cfg, self.time_scale)
                return await read_fields(self.client, profile, device_id)
            except ModbusReadError as err:
                # a stale late answer must not be taken for the next request's: start afresh
                if err.kind in ("connect", "timeout"):
                    self._drop()
                raise

    def _drop(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()


def line_key(cfg: MeterSourceConfig) -> LineKey:
    mb = cfg.modbus
    if mb is None:
        raise ValueError(f"{cfg.name}: not a Modbus source")
    # per event loop: a line (its lock, its client) belongs to the loop that made it
    loop = id(asyncio.get_running_loop())
    if cfg.kind is SourceKind.MODBUS_RTU:
        return (loop, "serial", str(mb.serial_port))
    return (loop, cfg.kind.value, f"{mb.host}:{mb.port}")
