"""What 2.0.1 chargers report about themselves, kept in their `ChargePointState`.

Payloads arrive in snake_case (the `ocpp` library converts them). Reported variables are
stored with the configuration read after boot (persisted); needs, limits and reported profiles
live in memory, as the charger reports them again after a restart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .events import EvChargingNeedsReported, ExternalLimitChanged
from .model import EvChargingNeeds, ExternalLimit
from .timeutil import parse_timestamp

if TYPE_CHECKING:
    from .hub import ChargerHub


def variable_key(component: Mapping[str, Any], variable: Mapping[str, Any]) -> str:
    """ "Component.Variable" as the configuration keeps it; an EVSE, a component instance or a
    variable instance is added where given: "EVSE@1.Power", "DeviceDataCtrlr.ItemsPerMessage
    [GetVariables]"."""
    name = str(component.get("name", ""))
    if component.get("instance"):
        name += f"[{component['instance']}]"
    evse = component.get("evse") or {}
    if evse.get("id") is not None:
        name += f"@{evse['id']}"
    key = f"{name}.{variable.get('name', '')}"
    if variable.get("instance"):
        key += f"[{variable['instance']}]"
    return key


async def save_reported_variables(
    hub: ChargerHub, cp_id: str, report: Sequence[Mapping[str, Any]]
) -> None:
    """NotifyReport: the Actual value of each reported variable joins the configuration."""
    values: dict[str, str] = {}
    for item in report:
        for attribute in item.get("variable_attribute") or []:
            if attribute.get("type", "Actual") == "Actual" and "value" in attribute:
                values[variable_key(item["component"], item["variable"])] = str(attribute["value"])
    if values:
        await hub.save_configuration(cp_id, values)


def save_reported_profiles(
    hub: ChargerHub,
    cp_id: str,
    evse_id: int,
    profiles: Sequence[Mapping[str, Any]],
    *,
    new_report: bool,
) -> None:
    """ReportChargingProfiles: a new request replaces what was reported before; the parts of
    one request (tbc, several sources or EVSEs) add up."""
    state = hub.state(cp_id)
    reported = {} if new_report else dict(state.reported_profiles)
    reported[evse_id] = (*reported.get(evse_id, ()), *profiles)
    hub.states[cp_id] = replace(state, reported_profiles=reported)


def _number(raw: Any) -> float | None:
    return None if raw is None else float(raw)


def parse_ev_needs(needs: Mapping[str, Any], now: datetime) -> EvChargingNeeds:
    ac = needs.get("ac_charging_parameters") or {}
    dc = needs.get("dc_charging_parameters") or {}
    departure = needs.get("departure_time")
    return EvChargingNeeds(
        received_at=now,
        energy_transfer=str(needs.get("requested_energy_transfer")),
        departure_at=parse_timestamp(departure, "departureTime") if departure else None,
        energy_wh=_number(ac.get("energy_amount", dc.get("energy_amount"))),
        max_current_a=_number(ac.get("ev_max_current", dc.get("ev_max_current"))),
        min_current_a=_number(ac.get("ev_min_current")),
        max_power_w=_number(dc.get("ev_max_power")),
    )


def save_ev_needs(
    hub: ChargerHub, cp_id: str, connector_id: int, raw: Mapping[str, Any] | None
) -> None:
    """NotifyEVChargingNeeds on a connector (None: forget them, the transaction ended)."""
    now = hub.clock()
    needs = parse_ev_needs(raw, now) if raw is not None else None
    state = hub.state(cp_id)
    connector = replace(hub.connector(cp_id, connector_id), ev_needs=needs)
    hub.states[cp_id] = replace(state, connectors={**state.connectors, connector_id: connector})
    if needs is not None:
        hub.bus.emit(EvChargingNeedsReported(cp_id, now, connector_id, needs))


def parse_external_limit(
    limit: Mapping[str, Any], schedule: Mapping[str, Any] | None, now: datetime
) -> ExternalLimit:
    periods: tuple[tuple[int, float], ...] = ()
    unit = start = None
    if schedule is not None:
        unit = str(schedule.get("charging_rate_unit"))
        raw_start = schedule.get("start_schedule")
        start = parse_timestamp(raw_start, "startSchedule") if raw_start else None
        periods = tuple(
            sorted(
                (int(p["start_period"]), float(p["limit"]))
                for p in schedule.get("charging_schedule_period") or []
            )
        )
    grid = limit.get("is_grid_critical")
    return ExternalLimit(
        source=str(limit["charging_limit_source"]),
        received_at=now,
        grid_critical=None if grid is None else bool(grid),
        unit=unit,
        start=start,
        periods=periods,
    )


def save_external_limit(
    hub: ChargerHub,
    cp_id: str,
    evse_id: int,
    limit: Mapping[str, Any],
    schedule: Mapping[str, Any] | None,
) -> None:
    now = hub.clock()
    external = parse_external_limit(limit, schedule, now)
    state = hub.state(cp_id)
    limits = {**state.external_limits, (evse_id, external.source): external}
    hub.states[cp_id] = replace(state, external_limits=limits)
    hub.bus.emit(ExternalLimitChanged(cp_id, now, evse_id, external.source, external))


def clear_external_limit(hub: ChargerHub, cp_id: str, evse_id: int, source: str) -> None:
    """ClearedChargingLimit; without an EVSE it clears that source everywhere on the charger."""
    state = hub.state(cp_id)
    limits = {
        key: value
        for key, value in state.external_limits.items()
        if not (key[1] == source and (evse_id == 0 or key[0] == evse_id))
    }
    hub.states[cp_id] = replace(state, external_limits=limits)
    hub.bus.emit(ExternalLimitChanged(cp_id, hub.clock(), evse_id, source, None))
