"""One Modbus poll: read a profile's register blocks and decode them, with typed failures."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.framer import FramerType

from .config import MeterSourceConfig, ModbusSettings, SourceKind
from .profile import Profile, decode_fields

# The unit id's keyword: `slave` up to pymodbus 3.9, `device_id` since 3.10. Home Assistant pins
# pymodbus (3.8.3 in 2025.4, 3.13.1 in 2026.7), so the manifest admits a range and both work.
UNIT_KEYWORD = (
    "device_id"
    if "device_id" in inspect.signature(AsyncModbusTcpClient.read_holding_registers).parameters
    else "slave"
)


class ModbusReadError(Exception):
    """`kind` is one of: connect, timeout, exception, length (used to group log episodes)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def make_client(cfg: MeterSourceConfig, time_scale: float = 1.0) -> Any:
    """A pymodbus async client for the source kind; pymodbus' own reconnect is off (we pace it).
    pymodbus waits in real time: on a site clock `time_scale` times faster, the request timeout
    (in site seconds) is that much shorter in real seconds."""
    mb = _settings(cfg)
    timeout = mb.request_timeout_s / time_scale
    common: dict[str, Any] = {"timeout": timeout, "retries": 0, "name": cfg.name}
    if cfg.kind is SourceKind.MODBUS_RTU:
        assert mb.serial_port is not None
        return AsyncModbusSerialClient(
            mb.serial_port,
            baudrate=mb.baudrate,
            parity=mb.parity,
            stopbits=mb.stopbits,
            bytesize=mb.bytesize,
            reconnect_delay=0,
            **common,
        )
    framer = FramerType.RTU if cfg.kind is SourceKind.MODBUS_RTU_OVER_TCP else FramerType.SOCKET
    assert mb.host is not None
    return AsyncModbusTcpClient(mb.host, port=mb.port, framer=framer, reconnect_delay=0, **common)


def _settings(cfg: MeterSourceConfig) -> ModbusSettings:
    if cfg.modbus is None:
        raise ValueError(f"{cfg.name}: not a Modbus source")
    return cfg.modbus


async def connect(client: Any, cfg: MeterSourceConfig, time_scale: float = 1.0) -> None:
    mb = _settings(cfg)
    where = mb.serial_port or f"{mb.host}:{mb.port}"
    try:
        ok = await asyncio.wait_for(client.connect(), (mb.request_timeout_s + 1) / time_scale)
    except (OSError, TimeoutError, ModbusException) as err:
        raise ModbusReadError("connect", f"cannot connect to {where}: {err}") from err
    if not ok:
        raise ModbusReadError("connect", f"cannot connect to {where}")


async def read_fields(client: Any, profile: Profile, device_id: int) -> dict[str, float]:
    """Read every block of `profile` once and decode the field values."""
    data: dict[tuple[str, int], int] = {}
    for block in profile.blocks:
        read = (
            client.read_input_registers
            if block.register_type == "input"
            else client.read_holding_registers
        )
        what = f"{block.register_type} registers {block.address}+{block.count}"
        try:
            reply = await read(block.address, count=block.count, **{UNIT_KEYWORD: device_id})
        except (TimeoutError, OSError, ModbusException) as err:
            raise ModbusReadError("timeout", f"no answer reading {what}: {err}") from err
        if reply.isError():
            code = getattr(reply, "exception_code", "?")
            raise ModbusReadError("exception", f"Modbus exception {code} reading {what}")
        registers = list(getattr(reply, "registers", []))
        if len(registers) != block.count:
            raise ModbusReadError(
                "length", f"wrong length reading {what}: got {len(registers)} registers"
            )
        for offset, word in enumerate(registers):
            data[(block.register_type, block.address + offset)] = word
    return decode_fields(profile, data)
