"""From the central system's view of a charger (and the user's settings) to a `ChargerInput`.

The balancer memoizes on the identity of each `ChargerInput`, so an unchanged charger keeps the
very same object (`refresh` returns the old one when nothing differs).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ..balancing import Charger, ChargerInput, Mode
from ..central import ChargePointState, ConnectorState, MeterSample
from ..config import ChargerBinding


@dataclass(frozen=True, slots=True)
class UserSettings:
    """What the user or the app set for one charger."""

    mode: Mode | None = None  # None: the site's default
    max_current_a: float | None = None
    target_soc: float | None = None  # stop once the car reports this SoC


def connector_of(state: ChargePointState | None, binding: ChargerBinding) -> ConnectorState | None:
    if state is None:
        return None
    return state.connectors.get(binding.connector_id)


def measured_soc(connector: ConnectorState | None) -> float | None:
    if connector is None:
        return None
    tx = connector.transaction
    if tx is not None and tx.soc is not None:
        return tx.soc
    return connector.meter.soc if connector.meter is not None else None


class SampleTimes:
    """When the controller first saw each charger's newest meter sample, on its own clock (a
    charger's timestamps may be off by minutes): the balancer tells by it whether a sample can
    show a limit it gave (balancing.draws)."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[MeterSample, datetime]] = {}

    def received(self, ident: str, connector: ConnectorState | None, now: datetime) -> datetime:
        sample = connector.meter if connector is not None else None
        if sample is None:
            self._seen.pop(ident, None)
            return now
        seen = self._seen.get(ident)
        if seen is None or seen[0] is not sample:
            seen = self._seen[ident] = (sample, now)
        return seen[1]


def charger_input(
    charger: Charger,
    connector: ConnectorState | None,
    user: UserSettings,
    urgency_kw: float,
    planned_w: float | None,
    received_at: datetime | None = None,
    external_a: float | None = None,
) -> ChargerInput:
    """`received_at`: when the connector's newest sample was first seen (`SampleTimes`);
    `external_a`: a limit the charger reported from elsewhere (`external_amps`)."""
    tx = connector.transaction if connector is not None else None
    plugged = tx is not None and tx.is_open and tx.card_status == "Accepted"
    limit = user.max_current_a
    if external_a is not None:
        limit = external_a if limit is None else min(limit, external_a)
    soc = measured_soc(connector)
    if user.target_soc is not None and soc is not None and soc >= user.target_soc:
        limit = 0.0  # full enough: pause (the balancer says why)
    measured = _measured(charger, connector) if plugged else None
    return ChargerInput(
        plugged=plugged,
        mode=plan_mode(user.mode, planned_w),
        measured_a=measured,
        measured_at=received_at if measured is not None else None,
        limit_a=limit,
        urgency_kw=urgency_kw,
        planned_w=planned_w,
    )


def external_amps(
    state: ChargePointState | None,
    binding: ChargerBinding,
    charger: Charger,
    now: datetime,
    voltage_v: float = 230.0,
) -> float | None:
    """The lowest limit in force that another controller set on the charger (2.0.1
    NotifyChargingLimit: an EMS, the grid operator), in amps per phase; None when there is none.
    A limit in W is shared over the phases the charger is wired to."""
    if state is None:
        return None
    found = state.external_limit(binding.connector_id, now)
    if found is None:
        return None
    value, unit = found
    amps = value / (voltage_v * len(charger.wiring)) if unit.upper() == "W" else value
    return max(0.0, amps)


def refresh(old: ChargerInput | None, new: ChargerInput) -> ChargerInput:
    return old if old is not None and old == new else new


def _measured(charger: Charger, connector: ConnectorState | None) -> tuple[float, ...] | None:
    """Per charger phase (its own L1..L3 order), from the newest sample of this session."""
    if connector is None or connector.meter is None or connector.transaction is None:
        return None
    sample = connector.meter
    if not sample.current_a.known or sample.timestamp < connector.transaction.started_at:
        return None
    values = sample.current_a.as_tuple()
    if len(charger.wiring) == 1:
        # One phase: whatever label the charger puts on it (none, "L1", or the grid phase its
        # meter sits on, e.g. "L3" for a charger wired on L3) it is the current of that phase.
        return (sum(max(0.0, v) for v in values if v is not None),)
    return tuple(max(0.0, v) if v is not None else 0.0 for v in values[: len(charger.wiring)])


def plan_mode(mode: Mode | None, planned_w: float | None) -> Mode | None:
    """A car with a plan follows it: the balancer gets a planned `dynamic` car (or one in the
    site's default mode, which is planned only when that follows plans) as `smart`."""
    if planned_w is not None and mode in (None, Mode.DYNAMIC):
        return Mode.SMART
    return mode


def with_plan(
    inp: ChargerInput,
    urgency_kw: float,
    planned_w: float | None,
    mode: Mode | None,
    *,
    waits_for_price: bool = False,
) -> ChargerInput:
    """`mode`: the user's setting (None: the site's default)."""
    mode = plan_mode(mode, planned_w)
    if (
        inp.urgency_kw == urgency_kw
        and inp.planned_w == planned_w
        and inp.mode == mode
        and inp.waits_for_price == waits_for_price
    ):
        return inp
    return replace(
        inp,
        urgency_kw=urgency_kw,
        planned_w=planned_w,
        mode=mode,
        waits_for_price=waits_for_price,
    )
