"""Meter readings into the balancer's terms, and a meter source fed from outside.

The balancer wants signed amps per phase (import positive). Meters differ: P1 (DSMR) meters give
unsigned currents and signed power per phase, Shelly gives both signed, some only power. The
sign comes from the power when there is one; a phase without any value counts as 0 A as long as
another phase has one (a single-phase connection).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from ..balancing import PhaseAmps
from ..meters.reading import MeterReading, Quality
from ..meters.source import MeterSource, utc_now

NOMINAL_VOLTAGE = 230.0


def reading_amps(reading: MeterReading) -> PhaseAmps | None:
    """Signed amps per phase, or None when the reading is not usable for balancing."""
    if reading.quality is not Quality.OK:
        return None
    amps: list[float | None] = []
    for current, power, volts in zip(
        reading.current_a, reading.power_w, reading.voltage_v, strict=True
    ):
        value: float | None = None
        if current is not None:
            value = abs(current) if power is not None else current
            if power is not None and power < 0:
                value = -value
        elif power is not None:
            value = power / (volts if volts and volts > 50 else NOMINAL_VOLTAGE)
        amps.append(value)
    if all(v is None for v in amps):
        if reading.total_power_w is None:
            return None
        share = reading.total_power_w / NOMINAL_VOLTAGE / 3
        return (share, share, share)
    a, b, c = (v or 0.0 for v in amps)
    return (a, b, c)


class ExternalMeterSource(MeterSource):
    """A meter whose readings come from outside (Home Assistant sensor entities, a test):
    `push(reading)` publishes one; staleness and plausibility work as for any other source."""

    def __init__(
        self,
        name: str,
        *,
        timeout_s: float,
        clock: Callable[[], datetime] = utc_now,
        fuse_a: float | None = None,
    ) -> None:
        super().__init__(name, timeout_s=timeout_s, clock=clock, fuse_a=fuse_a)

    def push(self, reading: MeterReading) -> MeterReading:
        """Publish `reading` (as assessed: implausible values are marked, not used)."""
        return self._publish(reading)

    async def _run(self) -> None:
        await asyncio.Event().wait()  # nothing to poll: readings are pushed
