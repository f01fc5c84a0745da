"""Sampled values of both OCPP versions turned into version-neutral `MeterSample`s.

Only what the product acts on is kept: the import register, total power, current and voltage
per phase, SoC and the current the charger offers. Units are normalised (kWh -> Wh, kW -> W,
2.0.1 multipliers). Context is kept but never trusted for meaning (Alfen gets it wrong).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .errors import RpcCode, RpcError
from .model import MeterSample, PhaseValues
from .timeutil import parse_timestamp

REGISTER = "Energy.Active.Import.Register"
_SCALE = {"kwh": 1000.0, "wh": 1.0, "kw": 1000.0, "w": 1.0}
# Lower is preferred when a measurand comes from several locations.
_LOCATION_RANK = {None: 0, "Outlet": 0, "Body": 1, "Cable": 1, "EV": 2, "Inlet": 3}
_PHASE_INDEX = {"L1": 0, "L1-N": 0, "L2": 1, "L2-N": 1, "L3": 2, "L3-N": 2}


def parse_meter_values(meter_values: Iterable[Mapping[str, Any]]) -> list[MeterSample]:
    """Parse a `meter_value` list (snake_case keys, as the handlers receive it)."""
    samples = []
    for entry in meter_values:
        sample = _parse_one(entry)
        if not sample.empty:
            samples.append(sample)
    return samples


def _parse_one(entry: Mapping[str, Any]) -> MeterSample:
    timestamp = parse_timestamp(entry.get("timestamp"), "meterValue.timestamp")
    best: dict[tuple[str, str | None], tuple[int, float]] = {}
    context = None
    for sampled in entry.get("sampled_value") or []:
        if sampled.get("format") == "SignedData":  # 1.6: the value is a signature, not a number
            continue
        measurand = sampled.get("measurand") or REGISTER
        phase = sampled.get("phase")
        context = context or sampled.get("context")
        value = _numeric(sampled.get("value"), measurand) * _unit_scale(sampled)
        rank = _LOCATION_RANK.get(sampled.get("location"), 1)
        key = (measurand, phase)
        if key not in best or rank < best[key][0]:
            best[key] = (rank, value)
    values = {key: value for key, (_, value) in best.items()}
    return MeterSample(
        timestamp=timestamp,
        context=context,
        energy_wh=_total(values, REGISTER),
        power_w=_total(values, "Power.Active.Import"),
        current_a=_per_phase(values, "Current.Import"),
        voltage_v=_per_phase(values, "Voltage"),
        soc=values.get(("SoC", None)),
        current_offered_a=_total(values, "Current.Offered"),
    )


def _numeric(raw: Any, measurand: str) -> float:
    if isinstance(raw, bool):
        raw = None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise RpcError(
            RpcCode.PROPERTY_CONSTRAINT, f"{measurand} value {str(raw)[:40]!r} is not a number"
        ) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise RpcError(RpcCode.PROPERTY_CONSTRAINT, f"{measurand} value is not finite")
    return value


def _unit_scale(sampled: Mapping[str, Any]) -> float:
    unit_of_measure = sampled.get("unit_of_measure")
    if isinstance(unit_of_measure, Mapping):  # 2.0.1: {"unit": "kWh", "multiplier": 0}
        unit = str(unit_of_measure.get("unit") or "")
        multiplier = float(10 ** int(unit_of_measure.get("multiplier") or 0))
    else:
        unit = str(sampled.get("unit") or "")
        multiplier = 1.0
    return _SCALE.get(unit.lower(), 1.0) * multiplier


def _total(values: Mapping[tuple[str, str | None], float], measurand: str) -> float | None:
    if (measurand, None) in values:
        return values[(measurand, None)]
    phased = [v for (m, phase), v in values.items() if m == measurand and phase in _PHASE_INDEX]
    return sum(phased) if phased else None


def _per_phase(values: Mapping[tuple[str, str | None], float], measurand: str) -> PhaseValues:
    phases: list[float | None] = [None, None, None]
    for (name, phase), value in values.items():
        if name == measurand and phase in _PHASE_INDEX:
            phases[_PHASE_INDEX[phase]] = value
    if phases == [None, None, None] and (measurand, None) in values:
        # No phase given: a single-phase charger (most report it this way) - counted on L1.
        phases[0] = values[(measurand, None)]
    return PhaseValues(*phases)
