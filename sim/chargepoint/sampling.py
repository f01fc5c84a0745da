"""Sampled values as a charger sends them, for the measurands the central system asked for."""

from __future__ import annotations

from typing import Any

from .behaviour import SimBehaviour
from .transaction import SimSample

REGISTER = "Energy.Active.Import.Register"
# What chargers send before anyone configures them.
DEFAULT_MEASURANDS = (REGISTER,)
SUPPORTED = {REGISTER, "Power.Active.Import", "Current.Import", "Current.Offered", "Voltage", "SoC"}


def measurands_from(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return DEFAULT_MEASURANDS
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def sampled_values(
    sample: SimSample,
    measurands: tuple[str, ...],
    behaviour: SimBehaviour,
    version: str,
    phases: int,
) -> list[dict[str, Any]]:
    register = sample.session_wh if behaviour.session_energy_in_meter_values else sample.register_wh
    rows: list[
        tuple[str, float, str, str | None, str | None]
    ] = []  # measurand, value, unit, phase, location
    for measurand in measurands:
        if measurand == REGISTER:
            rows.append((measurand, register, "Wh", None, None))
        elif measurand == "Power.Active.Import":
            rows.append((measurand, sample.power_w, "W", None, None))
        elif measurand == "Current.Offered":
            rows.append((measurand, sample.offered_a, "A", None, None))
        elif measurand == "Current.Import":
            for index in range(phases):
                label = _phase(behaviour, index)
                rows.append((measurand, sample.current_a[index], "A", label, None))
        elif measurand == "Voltage":
            for index in range(phases):
                rows.append(
                    (measurand, sample.voltage_v, "V", f"{_phase(behaviour, index)}-N", None)
                )
        elif measurand == "SoC" and sample.soc is not None:
            rows.append((measurand, sample.soc, "Percent", None, "EV"))
    if behaviour.frequency_unit is not None:
        rows.append(("Frequency", 50.0, behaviour.frequency_unit, None, None))
    return [_encode(row, sample.context, version) for row in rows]


def _phase(behaviour: SimBehaviour, index: int) -> str:
    labels = behaviour.phase_labels
    return labels[index] if labels is not None and index < len(labels) else f"L{index + 1}"


def _encode(
    row: tuple[str, float, str, str | None, str | None], context: str, version: str
) -> dict[str, Any]:
    measurand, value, unit, phase, location = row
    encoded: dict[str, Any] = {"measurand": measurand, "context": context}
    if version == "1.6":
        encoded["value"] = f"{value:.1f}"
        encoded["unit"] = unit
    else:
        encoded["value"] = round(value, 1)
        encoded["unitOfMeasure"] = {"unit": unit}
    if phase is not None:
        encoded["phase"] = phase
    if location is not None:
        encoded["location"] = location
    return encoded
