"""The quirk table and the charging profile arithmetic, without a network."""

from __future__ import annotations

from datetime import timedelta

import pytest

from custom_components.eflux.core.central import ChargePointState, quirks_for
from custom_components.eflux.core.central.profiles import build_limit
from custom_components.eflux.core.central.quirks import STANDARD, Quirks

from .support import T0


@pytest.mark.parametrize(
    ("vendor", "model", "name"),
    [
        ("ABB", "Terra AC W22-T-RD-M-0", "ABB Terra AC"),
        ("Wall Box Chargers", "PLP1", "Wallbox"),
        ("go-eCharger", "HOMEfix", "go-e"),
        ("EV-BOX", "Elvi", "EVBox"),
        ("Charge Amps", "Halo", "ChargeAmps"),
        ("United Chargers", "Grizzl-E Smart", "Grizzl-E"),
        ("Alfen BV", "NG910", "standard"),
    ],
)
def test_the_quirk_table_matches_vendor_and_model(vendor: str, model: str, name: str) -> None:
    assert quirks_for(vendor, model).name == name


@pytest.mark.parametrize(("asked", "sent"), [(10.26, 10.2), (6.0, 6.0), (5.99, 5.9), (-3.0, 0.0)])
def test_limits_are_rounded_down_to_one_decimal(asked: float, sent: float) -> None:
    spec = build_limit(
        ChargePointState("CP"),
        STANDARD,
        purpose="TxDefaultProfile",
        connector_id=0,
        amps=asked,
        phases=None,
        now=T0,
        wanted_stack_level=1,
        nominal_voltage=230.0,
    )
    assert spec.limit == sent


def test_stack_level_unit_and_validity_follow_the_charger() -> None:
    state = ChargePointState(
        "CP", configuration={"ChargeProfileMaxStackLevel": "3", "SmartChargingCtrlr.RateUnit": "W"}
    )
    spec = build_limit(
        state,
        STANDARD,
        purpose="ChargePointMaxProfile",
        connector_id=0,
        amps=16.0,
        phases=None,
        now=T0,
        wanted_stack_level=5,
        nominal_voltage=230.0,
        valid_for=timedelta(minutes=15),
    )
    assert (spec.stack_level, spec.unit, spec.limit, spec.profile_id) == (3, "W", 11040.0, 1)
    assert spec.valid_to == T0 + timedelta(minutes=15)
    assert spec.start_schedule < T0  # a charger whose clock lags still applies it now
    abb = build_limit(
        state,
        Quirks(stack_level_zero_only=True),
        purpose="TxProfile",
        connector_id=2,
        amps=8,
        phases=1,
        now=T0,
        wanted_stack_level=5,
        nominal_voltage=230.0,
        transaction_id="7",
    )
    assert (abb.stack_level, abb.limit, abb.profile_id, abb.transaction_id) == (0, 1840.0, 202, "7")
