"""A cloud whose database can be backed up and restored for real, on either engine.

SQLite: the database file is copied while the back end is stopped (and copied back).
PostgreSQL: the test gets its own database; a backup is `CREATE DATABASE … TEMPLATE` of it, and
a restore drops it and creates it again from that copy. Either way the API is stopped, the store
closed, and both opened again on the same port, as an operator's restore would.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
from aiohttp import web

from backend.api import create_app
from backend.store import AccountKind, CardKind, Store

from .conftest import NOW


class RestorableCloud:
    def __init__(self, database_url: str, tmp_path: Path, port: int) -> None:
        self.port = port
        self._tmp = tmp_path
        self._postgres = database_url.startswith("postgresql://")
        self._runner: web.AppRunner | None = None
        self._store: Store | None = None
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, int] = {}
        if self._postgres:
            parts = urlsplit(database_url)
            self._admin = database_url  # the session's database: where CREATE DATABASE runs
            self._name = f"restore_{uuid.uuid4().hex[:12]}"
            self.database = parts._replace(path=f"/{self._name}").geturl()
        else:
            self.database = database_url

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def store(self) -> Store:
        assert self._store is not None, "the cloud is down"
        return self._store

    # ---- lifetime -------------------------------------------------------------------------
    async def create(self) -> None:
        """A fresh database with Ann's account, her site (and its token) and cards ANN01/02."""
        if self._postgres:
            await self._sql(f'CREATE DATABASE "{self._name}"')
        await self.up()
        store = self.store
        ann = await store.accounts.create_account(AccountKind.CONSUMER, "Ann", now=NOW)
        site = await store.sites.create_site(ann.id, "Home", now=NOW)
        self.tokens["site"] = (await store.accounts.create_site_token(site, "t", now=NOW)).secret
        self.ids.update(account=ann.id, site=site.id)
        for uid in ("ANN01", "ANN02"):
            await self.add_card(uid)

    async def up(self) -> None:
        self._store = await Store.open(self.database)
        self._runner = web.AppRunner(create_app(self._store, clock=lambda: NOW))
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def down(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._store is not None:
            await self._store.close()
            self._store = None

    async def destroy(self) -> None:
        await self.down()
        if self._postgres:
            for name in (self._name, self._name + "_backup"):
                await self._sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    # ---- backup and restore ---------------------------------------------------------------
    async def backup(self) -> None:
        await self.down()
        if self._postgres:
            await self._sql(f'CREATE DATABASE "{self._name}_backup" TEMPLATE "{self._name}"')
        else:
            shutil.copyfile(self.database, self._tmp / "backup.sqlite")
        await self.up()

    async def restore(self) -> None:
        await self.down()
        if self._postgres:
            await self._sql(f'DROP DATABASE "{self._name}"')
            await self._sql(f'CREATE DATABASE "{self._name}" TEMPLATE "{self._name}_backup"')
        else:
            _copy_back(self._tmp / "backup.sqlite", Path(self.database))
        await self.up()

    # ---- card actions (an admin's, in the store) ------------------------------------------
    async def add_card(self, uid: str) -> None:
        card = await self.store.cards.create_card(
            uid, CardKind.SUBSCRIPTION, now=NOW, account_id=self.ids["account"]
        )
        self.ids[uid] = card.id

    async def card_version(self) -> int:
        return int(
            await self.store.db.fetchval("SELECT value FROM counters WHERE name = 'card_version'")
        )

    async def _sql(self, statement: str) -> None:
        conn = await asyncpg.connect(self._admin)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()


def _copy_back(backup: Path, database: Path) -> None:
    for suffix in ("-wal", "-shm"):  # closed cleanly there are none; be sure anyway
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(backup, database)
