"""Per-brand behaviour seen in the field (DESIGN §6), matched on BootNotification vendor/model.

Quirks handled for every charger need no entry here: negative transaction ids (Etrel, and
offline starts of several firmwares) are resolved through the connector's open transaction,
meter `context` is never trusted (Alfen) and a replayed meter backlog is merged by timestamp.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# 1.6 sampled-value units; anything else (ChargeAmps' "Hz") fails the schema.
V16_UNITS = frozenset(
    [
        "Wh",
        "kWh",
        "varh",
        "kvarh",
        "W",
        "kW",
        "VA",
        "kVA",
        "var",
        "kvar",
        "A",
        "V",
        "K",
        "Celcius",
        "Celsius",
        "Fahrenheit",
        "Percent",
        "Hertz",
    ]
)


@dataclass(frozen=True, slots=True)
class Quirks:
    name: str = "standard"
    # ABB Terra AC: only stackLevel 0 is accepted.
    stack_level_zero_only: bool = False
    # ABB Terra AC: ClearChargingProfile answers Accepted and changes nothing -> overwrite.
    clear_profile_is_noop: bool = False
    # Wallbox: a 0 A limit is rejected (or ignored) -> pause by stopping the transaction.
    rejects_zero_amps: bool = False
    # go-e: the first new limit after resuming from 0 A is ignored -> send it twice.
    ignores_first_limit_after_zero: bool = False
    # EVBox: rejects changes of max current and meter configuration -> do not try.
    rejects_configuration_changes: bool = False
    # ChargeAmps Halo: units outside the 1.6 list (Hz) -> drop the unit, keep the value.
    nonstandard_units: bool = False
    # Grizzl-E: lifetime register in Start/StopTransaction, session energy in MeterValues.
    session_energy_in_meter_values: bool = False


@dataclass(frozen=True, slots=True)
class QuirkRule:
    vendor: str  # regular expressions, case-insensitive, searched
    model: str
    quirks: Quirks


QUIRK_TABLE: tuple[QuirkRule, ...] = (
    QuirkRule(
        "abb",
        "terra",
        Quirks("ABB Terra AC", stack_level_zero_only=True, clear_profile_is_noop=True),
    ),
    QuirkRule("wall ?box", "", Quirks("Wallbox", rejects_zero_amps=True)),
    QuirkRule("go-?e", "", Quirks("go-e", ignores_first_limit_after_zero=True)),
    QuirkRule("ev-?box", "", Quirks("EVBox", rejects_configuration_changes=True)),
    QuirkRule("charge ?amps", "", Quirks("ChargeAmps", nonstandard_units=True)),
    QuirkRule(
        "grizzl|united ?chargers", "", Quirks("Grizzl-E", session_energy_in_meter_values=True)
    ),
)

STANDARD = Quirks()


def quirks_for(vendor: str | None, model: str | None) -> Quirks:
    for rule in QUIRK_TABLE:
        if re.search(rule.vendor, vendor or "", re.IGNORECASE) and re.search(
            rule.model, model or "", re.IGNORECASE
        ):
            return rule.quirks
    return STANDARD
