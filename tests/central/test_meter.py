"""Sampled values of both versions become SI-unit samples; context is never trusted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from custom_components.eflux.core.central.errors import RpcCode, RpcError
from custom_components.eflux.core.central.meter import parse_meter_values
from custom_components.eflux.core.central.model import PhaseValues

AT = "2026-03-02T08:00:00Z"


def one(values: list[dict[str, Any]]) -> Any:
    samples = parse_meter_values([{"timestamp": AT, "sampled_value": values}])
    assert len(samples) == 1
    return samples[0]


def test_v16_register_power_phases_voltage_soc() -> None:
    sample = one(
        [
            {"value": "12.5", "unit": "kWh"},  # no measurand: the import register
            {"value": "7.36", "measurand": "Power.Active.Import", "unit": "kW"},
            *(
                {"value": str(a), "measurand": "Current.Import", "phase": p, "unit": "A"}
                for a, p in ((16, "L1"), (15.5, "L2"), (0.2, "L3"))
            ),
            {"value": "231", "measurand": "Voltage", "phase": "L1-N", "unit": "V"},
            {"value": "64", "measurand": "SoC", "location": "EV", "unit": "Percent"},
            {"value": "16", "measurand": "Current.Offered", "unit": "A"},
        ]
    )
    assert sample.timestamp == datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert sample.energy_wh == 12500.0
    assert sample.power_w == 7360.0
    assert sample.current_a == PhaseValues(16.0, 15.5, 0.2)
    assert sample.current_a.phases_in_use() == 2
    assert sample.voltage_v == PhaseValues(231.0, None, None)
    assert (sample.soc, sample.current_offered_a) == (64.0, 16.0)


def test_v201_units_with_multipliers_and_phase_sums() -> None:
    sample = one(
        [
            {
                "value": 12.5,
                "measurand": "Energy.Active.Import.Register",
                "unit_of_measure": {"unit": "kWh", "multiplier": 0},
            },
            {
                "value": 23,
                "measurand": "Power.Active.Import",
                "phase": "L1",
                "unit_of_measure": {"unit": "W", "multiplier": 2},
            },
            {
                "value": 2.3,
                "measurand": "Power.Active.Import",
                "phase": "L2",
                "unit_of_measure": {"unit": "kW"},
            },
        ]
    )
    assert sample.energy_wh == 12500.0
    assert sample.power_w == pytest.approx(4600.0)


def test_outlet_beats_inlet_and_unphased_current_counts_on_l1() -> None:
    sample = one(
        [
            {"value": "900", "measurand": "Power.Active.Import", "location": "Inlet"},
            {"value": "700", "measurand": "Power.Active.Import", "location": "Outlet"},
            {"value": "10", "measurand": "Current.Import"},
        ]
    )
    assert sample.power_w == 700.0
    assert sample.current_a == PhaseValues(10.0, None, None)


def test_signed_data_is_skipped_and_context_is_only_kept() -> None:
    sample = one(
        [
            {"value": "AB12CD", "format": "SignedData"},
            {"value": "100", "context": "Transaction.Begin"},  # Alfen puts this on periodic ones
        ]
    )
    assert (sample.energy_wh, sample.context) == (100.0, "Transaction.Begin")


@pytest.mark.parametrize("bad", ["abc", "", "NaN", "inf"])
def test_non_numeric_values_are_refused(bad: str) -> None:
    with pytest.raises(RpcError) as raised:
        one([{"value": bad, "measurand": "Current.Import", "phase": "L1"}])
    assert raised.value.code is RpcCode.PROPERTY_CONSTRAINT


@pytest.mark.parametrize("stamp", ["yesterday", "2026-13-01T00:00:00Z", 5])
def test_bad_timestamps_are_refused(stamp: object) -> None:
    with pytest.raises(RpcError):
        parse_meter_values([{"timestamp": stamp, "sampled_value": [{"value": "1"}]}])


def test_naive_timestamps_are_utc() -> None:
    samples = parse_meter_values(
        [{"timestamp": "2026-03-02T08:00:00", "sampled_value": [{"value": "1"}]}]
    )
    assert samples[0].timestamp == datetime(2026, 3, 2, 8, tzinfo=UTC)
