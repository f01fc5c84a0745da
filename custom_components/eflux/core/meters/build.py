"""A running `MeterSource` from parsed settings: the one module that knows every source kind.

It sits above `config` (the settings) and the sources (which read those settings), so that
`config` imports no source and the sources import `config` without a cycle.
"""

from __future__ import annotations

from .config import MeterSourceConfig
from .errors import MeterConfigError
from .modbus_source import ModbusMeterSource
from .mqtt_source import MqttMeterSource
from .source import Clock, MeterSource, utc_now


def build_source(
    cfg: MeterSourceConfig, *, clock: Clock = utc_now, fuse_a: float | None = None
) -> MeterSource:
    """A source for `cfg` (not started: call `await source.start()`). `fuse_a` overrides the
    config's fuse for the plausibility check (10 x fuse).
    """
    fuse = fuse_a if fuse_a is not None else cfg.fuse_a
    if cfg.mqtt is not None:
        return MqttMeterSource(cfg, clock=clock, fuse_a=fuse)
    if cfg.modbus is None:
        raise MeterConfigError("kind", f"{cfg.kind} has no settings")
    return ModbusMeterSource(cfg, clock=clock, fuse_a=fuse)
