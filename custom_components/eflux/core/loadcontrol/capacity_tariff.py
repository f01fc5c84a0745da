"""Capacity tariff (Belgium): keep the 15-minute average import under a monthly target.

The grid operator bills the month's highest quarter-hour average import. This integrates the
import of the tariff's circuit (signed sum over the phases x voltage: export offsets import in
the same quarter) over the clock's quarter-hours and gives the balancer, for the rest of the
running quarter, the total current that keeps its average at the target:

    budget (A, summed over phases) = (target x 0.25 h - energy so far) / hours left / V

The target is the configured one, or the month's peak so far when that is higher (a quarter
up to the peak costs nothing more). It is raised only when a car would otherwise miss its
departure (`raise_to`), to the lowest target that lets every car make it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from ..balancing import PhaseAmps
from ..planning.slots import SLOT, quarter_floor

MIN_LEFT = timedelta(seconds=10)  # the last seconds of a quarter get the budget of these


@dataclass(frozen=True, slots=True)
class TariffStatus:
    quarter_start: datetime
    quarter_average_kw: float  # import so far this quarter, averaged over its elapsed part
    month_peak_kw: float  # highest completed quarter of the month
    target_kw: float  # in force: configured, or the month's peak, or raised for a departure
    budget_a: float  # total over the phases the circuit may draw for the rest of the quarter


class CapacityTariffMeter:
    def __init__(
        self, circuit: str, target_kw: float, voltage_v: float, zone: tzinfo = UTC
    ) -> None:
        self.zone = zone  # the months are the site's calendar months
        self.circuit = circuit
        self.configured_kw = target_kw
        self.raised_kw = 0.0  # a target raised this month for a departure
        self.voltage_v = voltage_v
        self._quarter: datetime | None = None
        self._month: tuple[int, int] | None = None
        self._kwh = 0.0
        self._last: tuple[datetime, float] | None = None  # last reading: time, import kW
        self.month_peak_kw = 0.0

    @property
    def target_kw(self) -> float:
        return max(self.configured_kw, self.month_peak_kw, self.raised_kw)

    def observe(self, amps: PhaseAmps, now: datetime) -> None:
        """A reading of the circuit's meter (signed amps per phase, import positive)."""
        kw = sum(amps) * self.voltage_v / 1000.0
        if self._quarter is None:
            self._start(quarter_floor(now))
        if self._last is not None:
            at, last_kw = self._last
            # The last power held until this reading: split it at every quarter boundary.
            while self._quarter is not None and now >= self._quarter + SLOT:
                end = self._quarter + SLOT
                self._kwh += last_kw * max(0.0, (end - at).total_seconds()) / 3600.0
                self._close(end)
                at = max(at, end)
            self._kwh += last_kw * max(0.0, (now - at).total_seconds()) / 3600.0
        elif self._quarter != quarter_floor(now):
            self._start(quarter_floor(now))
        self._last = (now, kw)

    def _start(self, quarter: datetime) -> None:
        local = quarter.astimezone(self.zone)
        month = (local.year, local.month)
        if self._month is not None and month != self._month:
            self.month_peak_kw = 0.0
            self.raised_kw = 0.0
        self._month = month
        self._quarter = quarter
        self._kwh = 0.0

    def _close(self, end: datetime) -> None:
        average = max(0.0, self._kwh / (SLOT.total_seconds() / 3600.0))
        self.month_peak_kw = max(self.month_peak_kw, average)
        self._start(end)

    def raise_to(self, kw: float) -> None:
        self.raised_kw = max(self.raised_kw, kw)

    def status(self, now: datetime) -> TariffStatus:
        quarter = self._quarter or quarter_floor(now)
        kwh = self._kwh
        if self._last is not None:
            kwh += self._last[1] * max(0.0, (now - self._last[0]).total_seconds()) / 3600.0
        elapsed = max(1.0, (now - quarter).total_seconds()) / 3600.0
        left = max(MIN_LEFT, quarter + SLOT - now).total_seconds() / 3600.0
        allowed_kwh = self.target_kw * SLOT.total_seconds() / 3600.0 - kwh
        budget_kw = max(0.0, allowed_kwh / left)
        return TariffStatus(
            quarter_start=quarter,
            quarter_average_kw=max(0.0, kwh / elapsed),
            month_peak_kw=self.month_peak_kw,
            target_kw=self.target_kw,
            budget_a=budget_kw * 1000.0 / self.voltage_v,
        )
