"""One-shot live check of a meter configuration (the config flow's "test connection")."""

from __future__ import annotations

import asyncio

from .build import build_source
from .config import MeterSourceConfig
from .errors import MeterProbeError
from .modbus_io import ModbusReadError
from .modbus_line import ModbusLine
from .profile import load_profile
from .reading import MeterReading, Quality, assess, from_fields
from .source import utc_now


async def probe(cfg: MeterSourceConfig, *, fuse_a: float | None = None) -> MeterReading:
    """Read the device once. Modbus: connect, read every register block, decode. MQTT: wait up
    to `cfg.timeout_s` for the first usable message. Raises `MeterProbeError` with the reason.
    """
    if cfg.modbus is None:
        return await _probe_mqtt(cfg, fuse_a)
    profile = load_profile(cfg.modbus.profile)
    line = ModbusLine.acquire(cfg)  # shares the bus with a source already polling it
    try:
        values = await line.read(profile, cfg.modbus.device_id)
    except ModbusReadError as err:
        raise MeterProbeError(f"{cfg.name}: {err}") from err
    finally:
        line.release()
    reading = assess(from_fields(cfg.name, utc_now(), values), fuse_a or cfg.fuse_a)
    if reading.quality is not Quality.OK:
        raise MeterProbeError(f"{cfg.name}: implausible values: {'; '.join(reading.problems)}")
    return reading


async def _probe_mqtt(cfg: MeterSourceConfig, fuse_a: float | None) -> MeterReading:
    source = build_source(cfg, fuse_a=fuse_a)
    first: asyncio.Future[MeterReading] = asyncio.get_running_loop().create_future()

    def seen(reading: MeterReading) -> None:
        if reading.quality is Quality.OK and not first.done():
            first.set_result(reading)

    source.add_listener(seen)
    await source.start()
    try:
        return await asyncio.wait_for(first, cfg.timeout_s)
    except TimeoutError as err:
        raise MeterProbeError(f"{cfg.name}: no usable message within {cfg.timeout_s} s") from err
    finally:
        await source.stop()
