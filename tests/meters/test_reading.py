"""The plausibility rules at their edges, and readings built from profile fields."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from custom_components.eflux.core.meters import MeterReading, Quality
from custom_components.eflux.core.meters.reading import assess, from_fields

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def reading(**values: object) -> MeterReading:
    return MeterReading(source="m", timestamp=NOW, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "ok"),
    [
        ({"current_a": (250.0, 0.0, -250.0)}, True),  # exactly 10 x 25 A
        ({"current_a": (250.01, 0.0, 0.0)}, False),
        ({"power_w": (57_500.0, None, None)}, True),  # 250 A x 230 V
        ({"power_w": (None, -57_501.0, None)}, False),  # export counts too
        ({"total_power_w": 172_500.0}, True),
        ({"total_power_w": 172_501.0}, False),
        ({"voltage_v": (0.0, 230.0, 231.0)}, True),  # a lost phase reads 0 V: physical
        ({"voltage_v": (-0.1, 230.0, 231.0)}, False),
        ({"import_kwh": math.inf}, False),
        ({"export_kwh": math.nan}, False),
        ({"current_a": (None, None, None)}, True),
    ],
)
def test_plausibility_edges(values: dict[str, object], ok: bool) -> None:
    assessed = assess(reading(**values), fuse_a=25)
    assert (assessed.quality is Quality.OK) is ok, assessed.problems
    assert bool(assessed.problems) is not ok


def test_without_a_fuse_only_nan_and_negative_voltage_count() -> None:
    assert assess(reading(current_a=(9999.0, 0.0, 0.0)), fuse_a=None).quality is Quality.OK
    assert assess(reading(voltage_v=(-1.0, 0.0, 0.0)), fuse_a=None).quality is Quality.IMPLAUSIBLE


def test_timestamp_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        MeterReading(source="m", timestamp=datetime(2026, 1, 1))


def test_total_is_the_sum_of_the_phases_when_missing() -> None:
    built = from_fields("m", NOW, {"power_l1": 100.0, "power_l2": -50.0, "power_l3": 25.0})
    assert built.total_power_w == 75.0
    partial = from_fields("m", NOW, {"power_l1": 100.0})
    assert partial.total_power_w is None  # not a guess from one phase
