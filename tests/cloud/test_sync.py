"""The sync against a real back end and a real central system: batches, refusals, cards,
departures, the loop's backoff, and a day-long outage with a restart in the middle."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from pathlib import Path

import aiosqlite

from custom_components.eflux.core.central.outbox import enqueue, ensure_schema
from custom_components.eflux.core.cloud import Backoff, CloudClient, CloudSync
from custom_components.eflux.core.domain import DepartureRequest, FinishedSession
from tests.central.support import FakeClock, RawCharger, eventually, running_central

from .conftest import NOW, Cloud
from .support import Charger, free_charging_config, opened_outbox


def _session(tx: str, minutes: int = 60) -> FinishedSession:
    return FinishedSession(
        charge_point_id="CP1",
        transaction_id=tx,
        connector_id=1,
        id_tag="ANN01",
        started_at=NOW,
        stopped_at=NOW + timedelta(minutes=minutes),
        meter_start_wh=0.0,
        meter_stop_wh=5000.0,
        energy_wh=5000.0,
    )


async def _queue(path: Path, sessions: list[FinishedSession]) -> None:
    async with aiosqlite.connect(path) as db:
        await ensure_schema(db)
        for session in sessions:
            await enqueue(db, session, now=NOW)
        await db.commit()


class MemoryCards:
    """A LocalCardList in memory, for tests that are not about the central system."""

    def __init__(self) -> None:
        self.version = 0
        self.deltas: list[object] = []

    async def card_list_version(self) -> int:
        return self.version

    async def apply_card_delta(self, delta: object) -> None:
        self.deltas.append(delta)
        self.version = delta.version  # type: ignore[attr-defined]


async def test_batches_and_a_lost_acknowledgement_never_double(
    tmp_path: Path, cloud: Cloud
) -> None:
    path = tmp_path / "local.sqlite"
    await _queue(path, [_session(str(n)) for n in range(250)])
    outbox = await opened_outbox(path)
    client = CloudClient(cloud.url, cloud.tokens["site"])
    try:
        # The cloud stores a batch but its answer is lost: the outbox still holds it.
        await client.post_sessions([e.session for e in await outbox.outbox_pending(40)])
        sync = CloudSync(client, outbox, MemoryCards(), batch_size=100)
        assert await sync.attempt() == sync.interval
        assert sync.status.online
        assert (sync.status.pending, sync.status.sent) == (0, 250)
        assert await cloud.session_rows() == [("CP1", str(n)) for n in range(250)]
    finally:
        await client.close()
        await outbox.close()


async def test_a_session_the_cloud_refuses_is_parked_and_the_rest_delivered(
    tmp_path: Path, cloud: Cloud
) -> None:
    path = tmp_path / "local.sqlite"
    broken = _session("2", minutes=-5)  # stops before it starts: the cloud says 400
    await _queue(path, [_session("1"), broken, _session("3")])
    outbox = await opened_outbox(path)
    client = CloudClient(cloud.url, cloud.tokens["site"])
    try:
        sync = CloudSync(client, outbox, MemoryCards())
        await sync.attempt()
        assert await cloud.session_rows() == [("CP1", "1"), ("CP1", "3")]
        assert (sync.status.pending, sync.status.rejected) == (0, 1)
        [(_, key, reason)] = await outbox.outbox_rejected()
        assert key == "CP1/2"
        assert "stopped_at" in reason
        assert await outbox.outbox_retry_rejected() == 1
        await sync.attempt()
        assert sync.status.rejected == 1  # still refused, still kept
    finally:
        await client.close()
        await outbox.close()


async def test_card_delta_reaches_the_central_and_a_lost_card_is_refused(
    tmp_path: Path, cloud: Cloud
) -> None:
    clock = FakeClock(NOW)
    config = free_charging_config(tmp_path)
    async with running_central(config, clock) as central:
        outbox = await opened_outbox(config.db_path)
        client = CloudClient(cloud.url, cloud.tokens["site"])
        try:
            sync = CloudSync(client, outbox, central, clock=clock)
            await sync.attempt()
            assert sync.status.card_list_version > 0
            assert (await central.authorize("ANN01")).status == "Accepted"
            await sync.report_card_lost("ANN01")
            assert (await central.authorize("ANN01")).status == "Blocked"
            assert (await central.authorize("ANN02")).status == "Accepted"
        finally:
            await client.close()
            await outbox.close()


async def test_departures_are_handed_over_once_across_a_restart(
    tmp_path: Path, cloud: Cloud
) -> None:
    cp = await cloud.store.sites.create_charge_point(
        cloud.ids["account"], "garage", now=NOW, site_id=cloud.ids["site"]
    )
    path = tmp_path / "local.sqlite"
    await _queue(path, [])
    taken: list[DepartureRequest] = []

    async def planner(request: DepartureRequest) -> None:
        taken.append(request)

    async def one_round() -> None:
        outbox = await opened_outbox(path)
        client = CloudClient(cloud.url, cloud.tokens["site"])
        try:
            await CloudSync(client, outbox, MemoryCards(), on_departure=planner).attempt()
        finally:
            await client.close()
            await outbox.close()

    driver = CloudClient(cloud.url, cloud.tokens["driver"])
    try:
        await driver.request(
            "PUT",
            f"/charge-points/{cp.id}/departure",
            {"departure_at": "2026-11-23T17:00:00+01:00", "soc_now": 30, "battery_kwh": 60},
        )
        await one_round()
        await cloud.down()
        await one_round()  # offline: nothing new, nothing lost
        await cloud.up()
        await one_round()  # a restart: the cursor was kept, nothing is handed over twice
        assert [(t.charge_point_id, t.soc_now, t.battery_kwh) for t in taken] == [
            ("garage", 30.0, 60.0)
        ]
        assert taken[0].departure_at == NOW.replace(hour=16)
        outbox = await opened_outbox(path)
        client = CloudClient(cloud.url, "efx_not-needed-offline")
        try:
            config = await CloudSync(client, outbox, MemoryCards()).site_config()
        finally:
            await client.close()
            await outbox.close()
        assert config is not None
        assert [cp["ocpp_id"] for cp in config["charge_points"]] == ["garage"]
        assert config["site"]["name"] == "Home"
    finally:
        await driver.close()


async def test_the_loop_backs_off_with_jitter_and_wakes_early(tmp_path: Path, cloud: Cloud) -> None:
    path = tmp_path / "local.sqlite"
    await _queue(path, [_session("1")])
    outbox = await opened_outbox(path)
    client = CloudClient(cloud.url, cloud.tokens["site"], timeout=2)
    waits: list[float] = []
    gate = asyncio.Event()

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) >= 6:
            await gate.wait()  # park the loop here until the test wakes it

    await cloud.down()
    sync = CloudSync(
        client,
        outbox,
        MemoryCards(),
        sleep=fake_sleep,
        backoff=Backoff(base=5, cap=60, rng=random.Random(7)),
    )
    try:
        sync.start()
        await eventually(lambda: len(waits) >= 6)
        steps = [5, 10, 20, 40, 60, 60]
        assert all(step / 2 <= w <= step for w, step in zip(waits, steps, strict=True))
        assert len(set(waits)) == len(waits)  # jittered, not in lockstep
        assert sync.status.pending == 1
        assert not sync.status.online
        assert sync.status.last_error is not None
        await cloud.up()
        sync.wake()
        await eventually(lambda: sync.status.online)
        assert sync.status.pending == 0
        await eventually(lambda: len(waits) == 7)
        assert waits[-1] == sync.interval  # back to the normal pace once it answers
    finally:
        gate.set()
        await sync.stop()
        await client.close()
        await outbox.close()


async def test_a_day_long_outage_with_a_restart_delivers_every_session_once_in_order(
    tmp_path: Path, cloud: Cloud
) -> None:
    """500 sessions finish on a real central over a simulated day while the cloud is down."""
    clock = FakeClock(NOW)
    config = free_charging_config(tmp_path)
    await cloud.down()
    finished: list[tuple[str, str]] = []
    seen: list[tuple[bool, int]] = []
    async with running_central(config, clock) as central:
        async with (
            RawCharger.connect(central.port, "CP-A") as raw_a,
            RawCharger.connect(central.port, "CP-B") as raw_b,
        ):
            a, b = Charger(raw_a, clock), Charger(raw_b, clock)
            await a.boot()
            await b.boot()

            async def sync_round() -> None:
                outbox = await opened_outbox(config.db_path)  # a fresh start every time
                client = CloudClient(cloud.url, cloud.tokens["site"], timeout=2)
                try:
                    sync = CloudSync(client, outbox, central, clock=clock)
                    await sync.attempt()
                    seen.append((sync.status.online, sync.status.pending))
                finally:
                    await client.close()
                    await outbox.close()

            for n in range(250):
                # Overlapping sessions: B starts after A but finishes first.
                tx_a = await a.start(1, "ANN01")
                clock.advance(seconds=80)
                tx_b = await b.start(1, "ANN02")
                clock.advance(seconds=120)
                await b.stop(tx_b, 1000 + n)
                finished.append(("CP-B", tx_b))
                clock.advance(seconds=145)
                await a.stop(tx_a, 2000 + n)
                finished.append(("CP-A", tx_a))
                if n % 25 == 0:
                    await sync_round()
        assert clock.now - NOW >= timedelta(hours=23)
        assert await cloud.session_rows() == []
        await cloud.up()
        await sync_round()
    rows = await cloud.session_rows()
    assert len(rows) == 500
    assert rows == finished  # exactly once each, in order of completion
    stored = await cloud.store.db.fetch(
        "SELECT energy_wh FROM sessions WHERE cp_ocpp_id = 'CP-B' ORDER BY id"
    )
    assert [r["energy_wh"] for r in stored] == [1000 + n for n in range(250)]
    # While down: every round failed and the queue only grew; back up: one round emptied it.
    assert [online for online, _ in seen] == [False] * 10 + [True]
    assert [pending for _, pending in seen] == [2 + 50 * k for k in range(10)] + [0]
