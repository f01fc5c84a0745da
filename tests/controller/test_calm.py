"""Regression: with no hysteresis, a pass that gives a charger the same limit is no change.

It used to count as an increase of 0 A and restart the minimum interval, so a charger held at
its safe current by a silent meter could not go back up at the first reading after the meter
returned (found by the end-to-end test).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from custom_components.eflux.core.balancing import (
    BalancerState,
    ChargerInput,
    SiteInputs,
    balance,
    compile_site,
)

from .support import garage_site

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_the_same_limit_again_keeps_the_time_of_the_last_change() -> None:
    compiled = compile_site(garage_site("CALM"))
    car = {"CALM": ChargerInput(plugged=True, measured_a=(6.0, 6.0, 6.0))}
    first = balance(compiled, SiteInputs({"grid": (25.0, 25.0, 25.0)}, car), BalancerState(), T0)
    assert first.chargers["CALM"].target_a == 6.0
    # The meter goes silent: the safe current (6 A) is the same limit again, twice.
    state = first.state
    for seconds in (40, 50):  # past the minimum interval since the last change
        result = balance(compiled, SiteInputs({}, car), state, T0 + timedelta(seconds=seconds))
        assert result.chargers["CALM"].target_a == 6.0
        assert result.changed == ()
        state = result.state
    assert state.chargers["CALM"].changed_at == T0
    # It returns: the last real change was long enough ago, so the increase is not held.
    back = balance(
        compiled, SiteInputs({"grid": (6.0, 6.0, 6.0)}, car), state, T0 + timedelta(seconds=52)
    )
    assert back.chargers["CALM"].target_a == 16.0
