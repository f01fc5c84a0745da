"""What the controller hands the balancer on every pass: meter readings and charger sessions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from .site import Mode, PhaseAmps


@dataclass(frozen=True, slots=True)
class ChargerInput:
    """The live view of one charger, kept by the controller and replaced when something changes.

    `plugged` means a car is connected and allowed to charge (an authorized session). `measured_a`
    are the charger's own current readings per *charger* phase (the order of its wiring), from
    its MeterValues. `limit_a` caps the offer (a user setting or the car's own maximum).
    """

    plugged: bool = False
    mode: Mode | None = None  # None: the site's default mode
    measured_a: tuple[float, ...] | None = None
    # When `measured_a` was sampled (received), on the balancer's clock; None: unknown, taken
    # as current. A sample from before a limit change had time to show counts differently
    # (see draws).
    measured_at: datetime | None = None
    limit_a: float | None = None
    # Energy still needed per hour left before departure (planning.urgency_kw): orders who waits.
    urgency_kw: float = 0.0
    # Smart mode: the power the planner wants now (planning.Plan.power_w_at); None: no plan.
    planned_w: float | None = None
    # The plan holds the car back for cheaper hours (the driver's choice): an owed turn does
    # not lift that pause, as it lifts one for other cars' sake (planning.Plan.waits_for_price).
    waits_for_price: bool = False


NO_CAR = ChargerInput()


@dataclass(frozen=True, slots=True)
class SiteInputs:
    """Meter readings by circuit id (amps per phase, import positive) and chargers by id.

    A metered circuit missing from `meters` counts as a silent meter: its `on_meter_loss` policy
    applies. Chargers missing from `chargers` have no car.
    """

    meters: Mapping[str, PhaseAmps] = field(default_factory=dict)
    chargers: Mapping[str, ChargerInput] = field(default_factory=dict)
