"""Transaction arithmetic: samples by their own timestamps, registers running backwards."""

from __future__ import annotations

from datetime import timedelta

from custom_components.eflux.core.central.compaction import bucket_samples
from custom_components.eflux.core.central.ledger import apply_samples, close
from custom_components.eflux.core.central.model import MeterSample, PhaseValues, Transaction

from .support import T0


def tx(meter_start: float | None = 1000.0) -> Transaction:
    return Transaction(
        id="1",
        charge_point_id="CP",
        connector_id=1,
        id_tag="T",
        card_status="Accepted",
        started_at=T0,
        meter_start_wh=meter_start,
    )


def at(minutes: float, wh: float | None = None, amps: float | None = None) -> MeterSample:
    return MeterSample(
        timestamp=T0 + timedelta(minutes=minutes),
        energy_wh=wh,
        current_a=PhaseValues(amps, amps, amps) if amps is not None else PhaseValues(),
    )


def test_samples_apply_by_their_own_timestamps_whatever_the_arrival_order() -> None:
    in_order = apply_samples(tx(), [at(1, 1100, 10), at(2, 1300, 16), at(3, 1500, 12)])
    shuffled = apply_samples(
        apply_samples(tx(), [at(3, 1500, 12)]), [at(1, 1100, 10), at(2, 1300, 16)]
    )
    assert in_order == shuffled
    assert shuffled.energy_wh == 500.0
    assert shuffled.current_a == PhaseValues(12, 12, 12)  # the newest, not the last to arrive
    assert not shuffled.energy_flagged


def test_a_register_running_backwards_is_flagged_never_negative() -> None:
    ran_back = apply_samples(tx(), [at(1, 1400), at(2, 200)])
    assert ran_back.energy_flagged
    assert ran_back.energy_wh == 0.0
    closed = close(tx(), 900.0, T0 + timedelta(hours=1), "Local")
    assert (closed.energy_wh, closed.energy_flagged) == (0.0, True)


def test_rounding_of_kwh_registers_is_not_a_reset() -> None:
    rounded = apply_samples(tx(1004.0), [at(1, 1000.0), at(2, 1010.0)])  # "1.00 kWh"
    assert not rounded.energy_flagged
    assert close(rounded, 1001.0, T0 + timedelta(minutes=3), None).energy_flagged is False


def test_a_2_0_1_transaction_takes_its_start_from_the_first_register() -> None:
    started = apply_samples(tx(None), [at(2, 5200), at(0, 5000)])
    assert (started.meter_start_wh, started.energy_wh) == (5000.0, 200.0)
    closed = close(started, None, T0 + timedelta(minutes=5), "EVDisconnected")
    assert (closed.meter_stop_wh, closed.energy_wh) == (5200.0, 200.0)


def test_no_register_at_all_is_recorded_as_zero_and_flagged() -> None:
    closed = close(tx(None), None, T0 + timedelta(minutes=5), None)
    assert (closed.energy_wh, closed.energy_flagged) == (0.0, True)


def test_closed_sessions_keep_one_sample_per_bucket() -> None:
    samples = [at(m / 6, 1000 + m * 10, amps=10 + (m % 2)) for m in range(60)]  # 10 s for 10 min
    compacted = bucket_samples(samples, timedelta(minutes=5))
    assert len(compacted) == 2
    assert [s.energy_wh for s in compacted] == [1290.0, 1590.0]  # the last register per bucket
    assert compacted[0].current_a.l1 == 10.5  # the mean current
