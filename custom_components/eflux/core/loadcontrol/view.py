"""Assemble a `SiteSnapshot` from the central system, the controller and the meters."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ..balancing import Mode
from ..central import ChargePointState, ConnectorState
from ..config import MeterConfig
from ..meters.source import MeterSource
from .controller import Controller
from .flex_price import flexibility_price
from .inputs import connector_of, measured_soc
from .meter_feed import reading_amps
from .plan_view import planner_fields
from .snapshot import ChargerSnapshot, MeterStatus, Phases, ReservationStatus, SiteSnapshot


def build_snapshot(
    controller: Controller,
    charge_points: Mapping[str, ChargePointState],
    meters: Mapping[str, tuple[MeterConfig, MeterSource]],
    now: datetime,
) -> SiteSnapshot:
    site = controller.site
    grid = next(c for c in site.circuits if c.parent is None)
    result = controller.result
    status = result.site if result is not None else None
    zero = (0.0, 0.0, 0.0)
    household = status.household_a if status is not None else zero
    grid_amps: Phases = (None, None, None)
    meter_rows = []
    for config, source in meters.values():
        latest = source.latest
        amps = reading_amps(latest) if latest is not None else None
        if config.circuit == grid.id and amps is not None:
            grid_amps = amps
        meter_rows.append(
            MeterStatus(
                name=config.name,
                circuit=config.circuit,
                kind=config.kind,
                quality=str(source.status.value),
                last_reading_at=latest.timestamp if latest is not None else None,
                current_a=latest.current_a if latest is not None else (None, None, None),
                power_w=latest.total_power_w if latest is not None else None,
                phase_power_w=latest.power_w if latest is not None else (None, None, None),
                import_kwh=latest.import_kwh if latest is not None else None,
                export_kwh=latest.export_kwh if latest is not None else None,
            )
        )
    balancer = "ok"
    if status is not None and status.meters_lost:
        balancer = "meter_lost"
    if status is not None and status.overload:
        balancer = "overload"
    return SiteSnapshot(
        at=now,
        grid_current_a=grid_amps,
        fuse_a=grid.limit_a,
        household_a=household,
        household_power_w=sum(household) * site.voltage_v,
        allocated_a=status.allocated_a if status is not None else zero,
        available_a=status.available_a if status is not None else zero,
        pv_surplus_w=status.pv_surplus_w if status is not None else 0.0,
        balancer_status=balancer,
        overloaded=status.overloaded if status is not None else (),
        meters_lost=status.meters_lost if status is not None else (),
        warnings=status.warnings if status is not None else (),
        overdrawing=status.overdrawing if status is not None else (),
        meters=tuple(meter_rows),
        chargers={c.id: charger_snapshot(controller, c.id, charge_points) for c in site.chargers},
        **planner_fields(controller, now),
        unprotected=tuple(sorted(cp for cp, st in charge_points.items() if st.unprotected)),
        pending_approval=tuple(
            sorted(cp for cp, st in charge_points.items() if st.boot_status == "Pending")
        ),
    )


def charger_snapshot(
    controller: Controller, ident: str, charge_points: Mapping[str, ChargePointState]
) -> ChargerSnapshot:
    binding = controller.bindings[ident]
    charger = controller.charger(ident)
    state = charge_points.get(binding.charge_point_id)
    connector = connector_of(state, binding)
    tx = connector.transaction if connector is not None else None
    sample = connector.meter if connector is not None else None
    user = controller.user_settings(ident)
    allocation = controller.allocation(ident)
    channel = controller.channel(ident)
    request = controller.departures.active.get(ident) or controller.departures.requests.get(ident)
    card = controller.replanner.cards.get(tx.id_tag) if tx is not None and tx.id_tag else None
    phases = controller.limits.phases
    car = controller.car_plan(ident)
    mode = user.mode or controller.site.default_mode
    power = tx.power_w if tx is not None and tx.power_w is not None else None
    if power is None and sample is not None:
        power = sample.power_w
    current = sample.current_a.as_tuple() if sample is not None else (None, None, None)
    register = sample.energy_wh if sample is not None else None
    return ChargerSnapshot(
        id=ident,
        name=charger.label,
        charge_point_id=binding.charge_point_id,
        connector_id=binding.connector_id,
        online=state.online if state is not None else False,
        status=connector.status if connector is not None else None,
        ocpp_version=state.ocpp_version if state is not None else None,
        vendor=state.vendor if state is not None else None,
        model=state.model if state is not None else None,
        firmware=state.firmware if state is not None else None,
        power_w=power,
        current_a=current,
        session_energy_kwh=tx.energy_wh / 1000.0 if tx is not None else None,
        total_energy_kwh=register / 1000.0 if register is not None else None,
        soc=measured_soc(connector),
        card=tx.id_tag if tx is not None else None,
        transaction_id=tx.id if tx is not None else None,
        mode=str(Mode(mode).value),
        mode_setting=user.mode.value if user.mode is not None else None,
        max_current_a=user.max_current_a,
        target_soc=user.target_soc,
        limit_a=allocation.target_a if allocation is not None else None,
        limit_sent_a=(
            channel.acked.amps if channel is not None and channel.acked is not None else None
        ),
        balancer_status=allocation.status.value if allocation is not None else None,
        reason=allocation.text if allocation is not None else None,
        limit_error=channel.error if channel is not None else None,
        departure_at=request.departure_at if request is not None else None,
        expected_finish=car.expected_finish if car is not None else None,
        ready_by_departure=car.will_make_it if car is not None else None,
        shortfall_kwh=car.shortfall_kwh if car is not None else None,
        plan_error=controller.departures.errors.get(ident),
        estimated_cost=car.estimated_cost if car is not None else None,
        flexibility=flexibility_price(
            controller.settings.flexibility.get(ident),
            request.departure_at if request is not None else None,
            tx,
            car,
        ),
        reservation=_reservation(connector),
        security_profile=state.security_profile if state is not None else None,
        phase_mode=phase_mode.value if (phase_mode := phases.modes.get(ident)) else None,
        phases_in_use=phases.running.get(ident),
        driver=card.driver or None if card is not None else None,
        car=(card.car.name or None) if card is not None and card.car is not None else None,
    )


def _reservation(connector: ConnectorState | None) -> ReservationStatus | None:
    held = connector.reservation if connector is not None else None
    return ReservationStatus(held.id, held.id_tag, held.expires_at) if held is not None else None
