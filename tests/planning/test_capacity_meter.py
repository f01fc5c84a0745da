"""The capacity tariff's meter: quarter-hour averages from readings, the budget for the rest of
a quarter, the month's peak, and a new month in the site's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.eflux.core.loadcontrol.capacity_tariff import CapacityTariffMeter

BRUSSELS = ZoneInfo("Europe/Brussels")


def amps_for(kw: float) -> tuple[float, float, float]:
    per_phase = kw * 1000 / 230 / 3
    return (per_phase, per_phase, per_phase)


def test_the_budget_keeps_the_quarter_at_its_target_and_the_peak_is_kept() -> None:
    meter = CapacityTariffMeter("grid", 5.0, 230.0, BRUSSELS)
    start = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    meter.observe(amps_for(8.0), start)  # 8 kW for the first 5 minutes
    status = meter.status(start + timedelta(minutes=5))
    assert status.quarter_average_kw == pytest.approx(8.0)
    # 1.25 kWh allowed, 0.667 used: 0.583 kWh over the 10 minutes left = 3.5 kW.
    assert status.budget_a * 230 / 1000 == pytest.approx(3.5)
    meter.observe(amps_for(3.5), start + timedelta(minutes=5))
    meter.observe(amps_for(1.0), start + timedelta(minutes=15))  # the next quarter starts
    assert meter.month_peak_kw == pytest.approx(5.0)
    assert meter.target_kw == pytest.approx(5.0)
    meter.observe(amps_for(7.0), start + timedelta(minutes=30))  # 1 kW for that quarter
    assert meter.month_peak_kw == pytest.approx(5.0)
    meter.raise_to(6.0)
    assert meter.target_kw == 6.0
    # Export offsets import: a quarter of net export counts as 0, never below.
    assert meter.status(start + timedelta(minutes=31)).budget_a > 0


def test_a_new_month_starts_at_local_midnight() -> None:
    meter = CapacityTariffMeter("grid", 2.0, 230.0, BRUSSELS)
    # 31 March 23:00 in Brussels (CEST) is 21:00 UTC: still March there.
    late = datetime(2026, 3, 31, 21, 0, tzinfo=UTC)
    meter.observe(amps_for(9.0), late)
    meter.observe(amps_for(9.0), late + timedelta(minutes=15))
    assert meter.month_peak_kw == pytest.approx(9.0)
    assert meter.target_kw == pytest.approx(9.0)  # up to the month's peak costs nothing
    meter.raise_to(12.0)
    midnight = datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # 1 April 00:00 in Brussels
    meter.observe(amps_for(1.0), midnight)
    meter.observe(amps_for(1.0), midnight + timedelta(minutes=15))
    assert meter.month_peak_kw == pytest.approx(1.0)  # April: a new peak, the raise forgotten
    assert meter.target_kw == 2.0
