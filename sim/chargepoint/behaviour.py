"""Firmware habits a simulated charger can copy, to test the central system's quirk handling."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SimBehaviour:
    boot_on_reconnect: bool = False  # most chargers only boot after a power cycle
    # 1.6 firmwares busy with StartTransaction's answer: the first N TxProfiles naming the new
    # transaction are rejected (its id is not known yet), later ones accepted
    late_transaction_id: int = 0
    # ABB Terra AC
    rejects_stack_level_above_zero: bool = False
    clear_profile_is_noop: bool = False
    # Wallbox
    rejects_zero_limit: bool = False
    ignores_profiles: bool = False  # accepts a profile and keeps charging as before
    # go-e
    ignores_first_limit_after_zero: bool = False
    # EVBox
    rejects_configuration_changes: bool = False
    # ChargeAmps Halo: Frequency samples with this unit ("Hz", outside the 1.6 list)
    frequency_unit: str | None = None
    # Grizzl-E: MeterValues carry the session's energy, Start/Stop the lifetime register
    session_energy_in_meter_values: bool = False
    # Etrel: keeps using its local negative transaction id after the central assigned one
    keeps_local_transaction_id: bool = False
    # Alfen: a wrong context on periodic samples, and the whole backlog replayed on connect
    meter_context: str = "Sample.Periodic"
    replays_meter_backlog: bool = False
    # The phase names on Current.Import/Voltage per charger phase (default L1, L2, L3): a
    # 1-phase charger whose meter sits on the grid's L3 may call its only phase "L3"
    phase_labels: tuple[str, ...] | None = None
    # go-e, some 2.0.1 boxes: numberPhases 1 in the charging profile switches the car to one
    # phase (2.0.1 phaseToUse picks which; the sim draws on its first), numberPhases 3 back
    switches_phases: bool = False
