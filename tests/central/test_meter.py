"""Sampled values of both versions become SI-unit samples; context is never trusted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from ocpp.charge_point import camel_to_snake_case

from custom_components.eflux.core.central.errors import RpcCode, RpcError
from custom_components.eflux.core.central.meter import parse_meter_values
from custom_components.eflux.core.central.model import PhaseValues
from sim.chargepoint import SimBehaviour
from sim.chargepoint.sampling import sampled_values
from sim.chargepoint.transaction import SimSample

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


def test_v201_current_per_phase_as_chargers_send_it() -> None:
    """2.0.1 chargers (Alfen, Zaptec, the sim) name phases "L1-N" or "L1", scale with a
    multiplier, add the location and a signed value: every phase still lands on its place."""
    sample = one(
        [
            {
                "value": 160 - 10 * k,
                "measurand": "Current.Import",
                "phase": f"L{k + 1}-N",
                "location": "Outlet",
                "unit_of_measure": {"unit": "A", "multiplier": -1},
                "signed_meter_value": {"signed_meter_data": "x", "signing_method": "y"},
            }
            for k in range(3)
        ]
    )
    assert sample.current_a == PhaseValues(16.0, 15.0, 14.0)


def test_a_one_phase_charger_keeps_the_phase_it_names() -> None:
    """A 1-phase charger wired on L3 that calls its phase L3: kept on L3 (the controller maps
    a 1-phase charger's only current onto its wiring, whatever the label)."""
    sample = one([{"value": "9.5", "measurand": "Current.Import", "phase": "L3", "unit": "A"}])
    assert sample.current_a == PhaseValues(None, None, 9.5)
    assert sample.current_a.phases_in_use() == 1


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
@pytest.mark.parametrize("phases", [1, 3])
def test_what_the_sim_sends_is_parsed_per_phase(version: str, phases: int) -> None:
    """The simulator's wire format (camelCase, as the ocpp library hands it over snake_case)."""
    amps = (12.0, 11.0, 10.0)
    sim_sample = SimSample(
        timestamp=datetime(2026, 3, 2, 8, tzinfo=UTC),
        register_wh=1000.0,
        power_w=0.0,
        current_a=amps,
        voltage_v=230.0,
        soc=None,
        offered_a=16.0,
        context="Sample.Periodic",
        session_wh=0.0,
    )
    measurands = ("Energy.Active.Import.Register", "Current.Import", "Voltage")
    wire = sampled_values(sim_sample, measurands, SimBehaviour(), version, phases)
    meter_value = camel_to_snake_case([{"timestamp": AT, "sampledValue": wire}])
    (sample,) = parse_meter_values(meter_value)
    assert sample.current_a.as_tuple() == amps[:phases] + (None,) * (3 - phases)
    assert sample.voltage_v.as_tuple() == (230.0,) * phases + (None,) * (3 - phases)
