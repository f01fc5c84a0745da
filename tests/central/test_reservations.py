"""Reservations (ReserveNow / CancelReservation) against simulated chargers over real websockets,
both OCPP versions: hold, refuse other cards, use, expiry, cancel, restart, missing profile."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from custom_components.eflux.core.central import (
    CallRejected,
    CentralEvent,
    CentralSystem,
    Reservation,
    ReservationEnded,
    ReservationMade,
    ReservationNotSupported,
    UnknownReservation,
)
from sim.chargepoint import SimChargePoint

from .support import (
    FakeClock,
    RawCharger,
    SimFactory,
    boot_v16,
    boot_v201,
    central_config,
    db_rows,
    eventually,
    iso,
    running_central,
    sims_against,
)

VERSIONS = ["1.6", "2.0.1"]


@dataclass
class Site:
    central: CentralSystem
    clock: FakeClock
    start: SimFactory
    db_path: Path
    events: list[CentralEvent] = field(default_factory=list)

    def ended(self) -> list[ReservationEnded]:
        return [e for e in self.events if isinstance(e, ReservationEnded)]

    def later(self, **delta: float) -> datetime:
        return self.clock() + timedelta(**delta)


@pytest_asyncio.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    clock = FakeClock()
    config = central_config(tmp_path, reservation_check_interval=0.02)
    async with running_central(config, clock) as central, sims_against(central, clock) as start:
        site = Site(central, clock, start, config.db_path)
        central.add_listener(site.events.append)
        yield site


async def configured(site: Site, cp_id: str, version: str, **kwargs: object) -> SimChargePoint:
    """A sim whose configuration the central system has read after boot."""
    sim = await site.start(cp_id, version, **kwargs)
    key = "SupportedFeatureProfiles" if version == "1.6" else "ReservationCtrlr.Enabled"
    await eventually(lambda: key in site.central.charge_points()[cp_id].configuration)
    return sim


def connector_status(site: Site, cp_id: str, connector: int = 1) -> str | None:
    return site.central.charge_points()[cp_id].connectors[connector].status


@pytest.mark.parametrize("version", VERSIONS)
async def test_reserve_refuse_others_then_use(site: Site, version: str) -> None:
    central, cp = site.central, f"RES-USE-{version}"
    sim = await configured(site, cp, version)
    reservation = await central.reserve(cp, 1, "CARD-A", site.later(hours=2))
    assert (reservation.id > 0, reservation.status, reservation.is_open) == (True, "Accepted", True)
    sent = sim.calls("ReserveNow")[0]
    if version == "1.6":
        assert (sent["connectorId"], sent["idTag"], sent["reservationId"]) == (
            1,
            "CARD-A",
            reservation.id,
        )
        assert sent["expiryDate"] == iso(reservation.expires_at)
    else:
        assert (sent["id"], sent["evseId"], sent["idToken"]["idToken"]) == (
            reservation.id,
            1,
            "CARD-A",
        )
        assert sent["expiryDateTime"] == iso(reservation.expires_at)
    assert sim.status == "Reserved"
    await eventually(lambda: connector_status(site, cp) == "Reserved")
    assert central.charge_points()[cp].connectors[1].reservation == reservation
    assert central.reservations(cp) == [reservation]
    assert [e.reservation for e in site.events if isinstance(e, ReservationMade)] == [reservation]

    # Another card: refused remotely and at the charger itself.
    with pytest.raises(CallRejected) as refused:
        await central.remote_start(cp, 1, "CARD-B")
    assert refused.value.status == "Rejected"
    await sim.plug_in("CARD-B")
    assert sim.transaction is None
    assert set(sim.reservations.refused_cards) == {"CARD-B"}
    assert central.reservations(cp) == [reservation]

    # The reserving card starts: its start carries the reservationId and uses it up.
    await sim.begin_transaction("CARD-A")
    tx = sim.transaction
    assert tx is not None
    assert tx.reservation_id == reservation.id
    await eventually(lambda: bool(site.ended()))
    (ended,) = site.ended()
    assert (ended.reason, ended.reservation.id) == ("Used", reservation.id)
    assert ended.reservation.transaction_id == central.open_transactions(cp)[0].id
    assert central.reservations(cp) == []
    assert central.charge_points()[cp].connectors[1].reservation is None
    row = db_rows(site.db_path, "SELECT end_reason, transaction_id FROM reservations")
    assert row == [("Used", ended.reservation.transaction_id)]


@pytest.mark.parametrize("version", VERSIONS)
async def test_expiry_ends_it(site: Site, version: str) -> None:
    central, cp = site.central, f"RES-EXP-{version}"
    sim = await configured(site, cp, version)
    reservation = await central.reserve(cp, 1, "CARD-A", site.later(minutes=15))
    await eventually(lambda: connector_status(site, cp) == "Reserved")
    site.clock.advance(minutes=16)
    await eventually(lambda: bool(site.ended()))
    assert [(e.reason, e.reservation.id) for e in site.ended()] == [("Expired", reservation.id)]
    await sim.wait_for(lambda: sim.status == "Available")
    await eventually(lambda: connector_status(site, cp) == "Available")
    # Now any card may start there.
    await sim.plug_in("CARD-B")
    assert sim.transaction is not None
    assert sim.transaction.reservation_id is None
    await eventually(lambda: bool(central.open_transactions(cp)))
    assert len(site.ended()) == 1  # a 2.0.1 charger reports it too: not ended twice


@pytest.mark.parametrize("version", VERSIONS)
async def test_cancel(site: Site, version: str) -> None:
    central, cp = site.central, f"RES-CANCEL-{version}"
    sim = await configured(site, cp, version)
    reservation = await central.reserve(cp, 1, "CARD-A", site.later(hours=1))
    await sim.wait_for(lambda: sim.status == "Reserved")
    ended = await central.cancel_reservation(reservation.id)
    assert (ended.end_reason, ended.is_open) == ("Cancelled", False)
    assert sim.calls("CancelReservation") == [{"reservationId": reservation.id}]
    await sim.wait_for(lambda: sim.status == "Available")
    await eventually(lambda: connector_status(site, cp) == "Available")
    assert [e.reason for e in site.ended()] == ["Cancelled"]
    with pytest.raises(UnknownReservation):
        await central.cancel_reservation(reservation.id)


@pytest.mark.parametrize("version", VERSIONS)
async def test_refusals_are_clear_errors(site: Site, version: str) -> None:
    central, cp = site.central, f"RES-BUSY-{version}"
    sim = await configured(site, cp, version, connectors=2)
    await sim.plug_in("CARD-A")
    with pytest.raises(CallRejected) as occupied:
        await central.reserve(cp, 1, "CARD-B", site.later(hours=1))
    assert (occupied.value.action, occupied.value.status) == ("ReserveNow", "Occupied")
    assert "ReserveNow answered Occupied" in str(occupied.value)
    with pytest.raises(ValueError, match="not in the future"):
        await central.reserve(cp, 2, "CARD-B", site.clock())
    # The free socket 2 can be held, shows Reserved, and a second hold there is Occupied.
    second = await central.reserve(cp, 2, "CARD-B", site.later(hours=1))
    await eventually(lambda: connector_status(site, cp, 2) == "Reserved")
    with pytest.raises(CallRejected, match="Occupied"):
        await central.reserve(cp, 2, "CARD-C", site.later(hours=1))
    assert central.reservations(cp) == [second]
    rows = db_rows(site.db_path, "SELECT id, status, end_reason FROM reservations ORDER BY id")
    assert [(status, reason) for _, status, reason in rows] == [
        ("Occupied", "Occupied"),
        ("Accepted", None),
        ("Occupied", "Occupied"),
    ]
    assert len({row[0] for row in rows}) == 3


async def test_v16_charger_without_the_reservation_profile(site: Site) -> None:
    profiles = "Core,SmartCharging,LocalAuthListManagement"
    sim = await configured(
        site, "RES-NOPROF", "1.6", configuration={"SupportedFeatureProfiles": profiles}
    )
    with pytest.raises(ReservationNotSupported, match="does not support reservations"):
        await site.central.reserve("RES-NOPROF", 1, "CARD-A", site.later(hours=1))
    assert sim.calls("ReserveNow") == []
    assert site.central.reservations() == []


async def test_v201_charger_with_reservations_disabled(site: Site) -> None:
    config = {"ReservationCtrlr.Enabled": "false"}
    sim = await configured(site, "RES-OFF", "2.0.1", configuration=config)
    await eventually(
        lambda: (
            site.central.charge_points()["RES-OFF"].configuration["ReservationCtrlr.Enabled"]
            == "false"
        )
    )
    with pytest.raises(ReservationNotSupported):
        await site.central.reserve("RES-OFF", 1, "CARD-A", site.later(hours=1))
    assert sim.calls("ReserveNow") == []


async def test_ids_and_open_reservations_survive_a_restart(tmp_path: Path) -> None:
    clock = FakeClock()
    config = central_config(tmp_path, reservation_check_interval=0.02)
    async with running_central(config, clock) as central, sims_against(central, clock) as start:
        await start("RES-R1")
        kept = await central.reserve("RES-R1", 1, "CARD-A", clock() + timedelta(hours=3))
        await start("RES-R2")
        cancelled = await central.reserve("RES-R2", 1, "CARD-B", clock() + timedelta(hours=3))
        await central.cancel_reservation(cancelled.id)
    # Drop the cancelled row too: AUTOINCREMENT still never hands its id out again.
    async with running_central(config, clock) as central:
        assert central.reservations() == [kept]
        assert central.charge_points()["RES-R1"].connectors[1].reservation == kept
    with sqlite3.connect(config.db_path) as db:
        db.execute("DELETE FROM reservations WHERE id = ?", (cancelled.id,))
    async with running_central(config, clock) as central, sims_against(central, clock) as start:
        assert central.reservations() == [kept]
        await start("RES-R3", "2.0.1")
        fresh = await central.reserve("RES-R3", 1, "CARD-C", clock() + timedelta(hours=1))
        assert fresh.id > cancelled.id > kept.id
        # The kept one still expires by the central system's clock.
        events: list[CentralEvent] = []
        central.add_listener(events.append)
        clock.advance(hours=4)

        def ended() -> list[tuple[int, str]]:
            return sorted(
                (e.reservation.id, e.reason) for e in events if isinstance(e, ReservationEnded)
            )

        await eventually(lambda: len(ended()) == 2)
        assert ended() == [(kept.id, "Expired"), (fresh.id, "Expired")]
        assert central.reservations() == []


async def test_v16_start_naming_the_reservation_ends_it(site: Site) -> None:
    central = site.central
    async with RawCharger.connect(central.port, "RES-RAW16") as raw:
        await raw.call_ok("BootNotification", boot_v16())
        reserving = asyncio.create_task(
            central.reserve("RES-RAW16", 1, "CARD-A", site.later(hours=1), parent_id_tag="FLEET")
        )
        call = await _next_reserve_now(raw)
        payload = call[3]
        assert isinstance(payload, dict)
        assert payload["parentIdTag"] == "FLEET"
        await raw.send(f'[3,"{call[1]}",{{"status":"Accepted"}}]')
        reservation: Reservation = await reserving
        # A card of the same fleet starts, naming the reservation: it is used.
        answer = await raw.call_ok(
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "CARD-FLEET-2",
                "meterStart": 100,
                "timestamp": iso(site.clock()),
                "reservationId": reservation.id,
            },
        )
        (ended,) = site.ended()
        assert (ended.reason, ended.reservation.transaction_id) == (
            "Used",
            str(answer["transactionId"]),
        )


async def test_v201_charger_reports_a_removed_reservation(site: Site) -> None:
    central = site.central
    async with RawCharger.connect(central.port, "RES-RAW201", "2.0.1") as raw:
        await raw.call_ok("BootNotification", boot_v201())
        reserving = asyncio.create_task(
            central.reserve("RES-RAW201", 2, "CARD-A", site.later(hours=1))
        )
        call = await _next_reserve_now(raw)
        await raw.send(f'[3,"{call[1]}",{{"status":"Accepted"}}]')
        reservation = await reserving
        assert (
            await raw.call_ok(
                "ReservationStatusUpdate",
                {"reservationId": reservation.id, "reservationUpdateStatus": "Removed"},
            )
            == {}
        )
        assert [(e.reason, e.reservation.id) for e in site.ended()] == [("Removed", reservation.id)]
        assert central.reservations() == []
        # A report for a reservation that is no longer open changes nothing.
        assert (
            await raw.call_ok(
                "ReservationStatusUpdate",
                {"reservationId": reservation.id, "reservationUpdateStatus": "Expired"},
            )
            == {}
        )
        assert len(site.ended()) == 1


async def _next_reserve_now(raw: RawCharger) -> list[object]:
    """The ReserveNow CALL; the boot configuration's calls before it get a CALLERROR (they
    are not what these tests are about, and unanswered they would hold the line)."""
    while True:
        call = await raw.next_call_from_central()
        if call[2] == "ReserveNow":
            return call
        await raw.send(f'[4,"{call[1]}","NotImplemented","",{{}}]')
