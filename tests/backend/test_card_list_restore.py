"""A cloud restored from an old backup: a site ahead of it, or on the history the restore cut
off, gets the full card list and replaces its own (cards the cloud no longer knows leave, the
restored statuses win), then deltas go on as before. Real API on each engine, the real sync
client, a real central system and a simulated charger; the backup and restore are real copies
of the database (restorable.py)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest_asyncio

from backend.store import CardStatus
from custom_components.eflux.core.central import CentralSystem
from custom_components.eflux.core.central.outbox import SqliteSessionOutbox
from custom_components.eflux.core.cloud import CloudClient, CloudSync
from custom_components.eflux.core.cloud.sync import CARD_EPOCH_KEY
from sim.chargepoint import SimChargePoint
from tests.central.support import FakeClock, central_config, eventually, running_central

from .conftest import NOW, Api
from .restorable import RestorableCloud


@pytest_asyncio.fixture
async def cloud(
    database_url: str, tmp_path: Path, unused_port: Callable[[], int]
) -> AsyncIterator[RestorableCloud]:
    world = RestorableCloud(database_url, tmp_path, unused_port())
    try:
        await world.create()
        yield world
    finally:
        await world.destroy()


@dataclass
class Site:
    central: CentralSystem
    outbox: SqliteSessionOutbox
    client: CloudClient
    sync: CloudSync

    async def sync_now(self) -> None:
        await self.sync.attempt()
        assert self.sync.status.online, self.sync.status.last_error

    async def verdict(self, uid: str) -> tuple[str, str]:
        result = await self.central.authorize(uid)
        return result.status, result.source

    async def version(self) -> int:
        return await self.central.card_list_version()

    async def epoch(self) -> str | None:
        return await self.outbox.state_get(CARD_EPOCH_KEY)


@asynccontextmanager
async def local_site(tmp_path: Path, cloud: RestorableCloud) -> AsyncIterator[Site]:
    """A central system (cards the local list lacks go to the cloud) synced by CloudSync."""
    clock = FakeClock(NOW)
    client = CloudClient(cloud.url, cloud.tokens["site"])
    config = central_config(tmp_path)
    async with running_central(config, clock, client.authorize) as central:
        outbox = SqliteSessionOutbox(config.db_path)
        await outbox.open()
        try:
            yield Site(central, outbox, client, CloudSync(client, outbox, central, clock=clock))
        finally:
            await client.close()
            await outbox.close()


async def test_a_site_ahead_of_a_restored_cloud_replaces_its_list(
    tmp_path: Path, cloud: RestorableCloud
) -> None:
    async with local_site(tmp_path, cloud) as site:
        charger = SimChargePoint(
            f"ws://127.0.0.1:{site.central.port}", "CP-R", "1.6", meter_interval=3600
        )
        await charger.start()
        try:
            await site.sync_now()
            await eventually(lambda: charger.local_list.get("ANN02") == "Accepted")
            await cloud.backup()

            # After the backup: a new card, and more changes, all seen by the site.
            await cloud.add_card("ANN03")
            await cloud.store.cards.touch_account(cloud.ids["account"])
            await site.sync_now()
            assert await site.verdict("ANN03") == ("Accepted", "local-list")
            await eventually(lambda: charger.local_list.get("ANN03") == "Accepted")
            ahead, old_epoch = await site.version(), await site.epoch()

            await cloud.restore()
            # The restored history goes on: ANN02 is blocked there. Its version is still
            # below what the site has seen, so a delta "since" the site's would miss it.
            await cloud.store.cards.set_status(
                cloud.ids["ANN02"], None, CardStatus.BLOCKED, now=NOW, actor="admin"
            )
            restored = await cloud.card_version()
            assert restored < ahead

            await site.sync_now()
            assert await site.version() == restored
            assert await site.verdict("ANN02") == ("Blocked", "local-list")
            assert await site.verdict("ANN01") == ("Accepted", "local-list")
            # ANN03 left the local list; the cloud, asked now, does not know it.
            assert await site.verdict("ANN03") == ("Invalid", "remote")
            assert await site.epoch() not in (None, old_epoch)
            # The charger got the whole list (Full): ANN03 is gone there too.
            await eventually(lambda: "ANN03" not in charger.local_list)
            assert charger.local_list == {"ANN01": "Accepted", "ANN02": "Blocked"}
            entries = await cloud.store.audit.list(None, limit=200)
            assert [e.action for e in entries].count("card_list.new_epoch") == 1

            # From here on, plain deltas: the next round is not a full list, and a change
            # made in the cloud arrives as before.
            pull = await site.client.card_list(await site.version(), await site.epoch())
            assert (pull.full, pull.delta.cards) == (False, ())
            await cloud.store.cards.set_status(
                cloud.ids["ANN02"], None, CardStatus.ACTIVE, now=NOW, actor="admin"
            )
            await cloud.add_card("ANN04")
            await site.sync_now()
            assert await site.verdict("ANN02") == ("Accepted", "local-list")
            assert await site.verdict("ANN04") == ("Accepted", "local-list")
            assert await site.version() == await cloud.card_version()
            await eventually(lambda: charger.local_list.get("ANN04") == "Accepted")
            assert charger.local_list.get("ANN02") == "Accepted"
        finally:
            await charger.close()


async def test_after_rotate_card_epoch_a_site_behind_the_counter_replaces_its_list(
    tmp_path: Path, cloud: RestorableCloud
) -> None:
    """The restored cloud has passed the site's version before it syncs: only the epoch can
    tell the site that its last changes belong to a history the cloud no longer has."""
    async with local_site(tmp_path, cloud) as site:
        await site.sync_now()
        await cloud.backup()
        await cloud.store.cards.set_status(
            cloud.ids["ANN01"], None, CardStatus.BLOCKED, now=NOW, actor="admin"
        )
        await cloud.add_card("GONE1")
        await site.sync_now()
        assert await site.verdict("ANN01") == ("Blocked", "local-list")
        assert await site.verdict("GONE1") == ("Accepted", "local-list")
        seen = await site.version()

        await cloud.restore()
        for uid in ("NEW01", "NEW02", "NEW03"):  # the restored counter passes the site's
            await cloud.add_card(uid)
        assert await cloud.card_version() > seen
        # Without the rotation the site is not ahead, and the cloud cannot tell: a delta.
        pull = await site.client.card_list(seen, await site.epoch())
        assert not pull.full
        assert [c.uid for c in pull.delta.cards] == ["NEW03"]  # NEW01/02 would be missed

        # The operator's post-restore step, through the real command line.
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "backend.cli",
            "--database",
            cloud.database,
            "rotate-card-epoch",
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await proc.communicate()
        assert proc.returncode == 0
        rotated = json.loads(out)
        assert rotated["previous"] == await site.epoch()

        await site.sync_now()
        assert await site.epoch() == rotated["epoch"]
        assert await site.version() == await cloud.card_version()
        # The restored history wins: ANN01 was never blocked there, GONE1 never made.
        assert await site.verdict("ANN01") == ("Accepted", "local-list")
        assert await site.verdict("GONE1") == ("Invalid", "remote")
        for uid in ("NEW01", "NEW02", "NEW03", "ANN02"):
            assert await site.verdict(uid) == ("Accepted", "local-list")

        await cloud.store.cards.set_status(
            cloud.ids["NEW01"], None, CardStatus.BLOCKED, now=NOW, actor="admin"
        )
        await site.sync_now()
        assert await site.verdict("NEW01") == ("Blocked", "local-list")
        assert await site.verdict("NEW02") == ("Accepted", "local-list")


async def test_sync_cards_full_and_epoch_in_the_api(api: Api) -> None:
    status, first = await api.call("GET", "/sync/cards", "site")
    assert status == 200
    assert (first["full"], first["since_version"]) == (True, 0)
    epoch, version = first["epoch"], first["version"]
    assert [c["uid"] for c in first["cards"]] == ["ANN01"]

    # An old client (no epoch) gets the delta it always got, now with the epoch beside it.
    status, plain = await api.call("GET", f"/sync/cards?since={version}", "site")
    assert (status, plain["full"], plain["cards"], plain["epoch"]) == (200, False, [], epoch)
    status, same = await api.call("GET", f"/sync/cards?since={version}&epoch={epoch}", "site")
    assert (same["full"], same["since_version"], same["version"]) == (False, version, version)

    # Another history: the full list, from 0, with the cloud's epoch.
    status, other = await api.call("GET", f"/sync/cards?since={version}&epoch=0ther", "site")
    assert (status, other["full"], other["since_version"]) == (200, True, 0)
    assert ([c["uid"] for c in other["cards"]], other["epoch"]) == (["ANN01"], epoch)

    # Ahead of the counter: the full list, and a new epoch for every site.
    status, ahead = await api.call("GET", f"/sync/cards?since={version + 50}&epoch={epoch}", "site")
    assert (status, ahead["full"], ahead["version"]) == (200, True, version)
    assert ahead["epoch"] != epoch
    status, after = await api.call(
        "GET", f"/sync/cards?since={version}&epoch={ahead['epoch']}", "site"
    )
    assert after["full"] is False
    [entry] = [
        e for e in await api.store.audit.list(None, limit=200) if e.action == "card_list.new_epoch"
    ]
    assert entry.actor == f"site:{api.ids['site']}"

    for bad in ("", "a" * 65, "x;DROP", "é"):
        status, error = await api.call("GET", f"/sync/cards?since=1&epoch={bad}", "site")
        assert (status, error["error"]) == (400, "invalid"), bad
