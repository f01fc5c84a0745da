"""Errors of the meter layer, each naming what the user has to fix."""

from __future__ import annotations


class MeterConfigError(ValueError):
    """A meter or profile setting is wrong: `key` names it, `reason` says why."""

    def __init__(self, key: str, reason: str, *, where: str = "") -> None:
        self.key = key
        self.reason = reason
        self.where = where
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}{key}: {reason}")


class MeterProbeError(RuntimeError):
    """A live probe of a device failed (unreachable, Modbus exception, timeout, short reply)."""
