"""Two back-end processes on one PostgreSQL database: a command an eMSP sends to one reaches
a site whose long poll waits on the other (found by its look at the database, not by the
first process's in-memory wake-up), handed out once."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestServer, unused_port

from backend.api import create_app
from backend.store import Store

from .conftest import NOW, Start
from .test_commands import mia_token, roaming_pair, send, site_call

WAIT_S = 25


@pytest.mark.parametrize(
    "engine_dsn", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_command_reaches_a_site_polling_another_process(
    start_platform: Start, engine_dsn: str
) -> None:
    cpo, emsp, world = await roaming_pair(start_platform)
    schema = await cpo.store.db.fetchval("SELECT current_schema()")
    other_store = await Store.open(f"{engine_dsn}?search_path={schema}")
    other = TestServer(
        create_app(other_store, clock=lambda: NOW, ocpi=cpo.settings),
        host="127.0.0.1",
        port=unused_port(),
    )
    await other.start_server()
    try:
        loop = asyncio.get_running_loop()
        began = loop.time()
        poll = asyncio.create_task(
            site_call(other, world["site_token"], "GET", f"/sync/commands?wait={WAIT_S}")
        )
        await asyncio.sleep(0.5)  # the poll is waiting on the other process
        body = {"token": mia_token(), "location_id": world["location"]}
        assert (await send(emsp, "START_SESSION", body)).response == "ACCEPTED"
        status, taken = await poll
        # The other process looks at the database every 5 s while it waits: the command
        # comes long before the wait would have ended (where any poll finds it anyway).
        assert loop.time() - began < WAIT_S - 5
        assert status == 200
        assert [i["command"] for i in taken["items"]] == ["START_SESSION"]
        # Handed out once: neither process gives it again.
        for server in (cpo.server, other):
            assert await site_call(server, world["site_token"], "GET", "/sync/commands") == (
                200,
                {"items": []},
            )
    finally:
        await other.close()
        await other_store.close()
