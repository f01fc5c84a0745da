"""`eflux-backend ocpi command …` as a real process: the eMSP's operator starts a session for
a customer's card at the CPO's charge point; the site answers; `command-status` shows the
charger's result that reached the running back end. Usage errors exit with their reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.store import CardStatus

from .conftest import NOW, Start
from .test_cli import cli
from .test_commands import roaming_pair, site_call


@pytest.mark.parametrize("engine_dsn", ["sqlite"], indirect=True)
async def test_start_a_session_from_the_command_line(start_platform: Start, tmp_path: Path) -> None:
    cpo, emsp, world = await roaming_pair(start_platform)
    database = tmp_path / "NL-MSP.sqlite"
    party = (await emsp.only_party()).id
    ours = ("--party", "NL-MSP", "--public-url", emsp.settings.base_url)
    where = ("--location", world["location"], "--evse", world["evse"])
    code, out, err = await cli(
        database, *ours, "command", "start", "--to", str(party), "--card", "mia01", *where
    )
    assert code == 0, err
    sent = json.loads(out)
    assert (sent["response"], sent["timeout"]) == ("ACCEPTED", 90)

    _, taken = await site_call(cpo.server, world["site_token"], "GET", "/sync/commands")
    (item,) = taken["items"]
    assert (item["command"], item["args"]["id_tag"]) == ("START_SESSION", "MIA01")
    path = f"/sync/commands/{item['id']}/result"
    await site_call(cpo.server, world["site_token"], "POST", path, {"result": "ACCEPTED"})
    code, out, err = await cli(database, "command-status", "--uid", sent["uid"])
    assert code == 0, err
    state = json.loads(out)
    assert (state["command"], state["response"], state["result"]) == (
        "START_SESSION",
        "ACCEPTED",
        "ACCEPTED",
    )

    # Refused by the CPO: exit 1 with its answer (no such session there).
    code, out, _ = await cli(
        database, *ours, "command", "stop", "--to", str(party), "--session", "E1T404"
    )
    assert (code, json.loads(out)["response"]) == (1, "UNKNOWN_SESSION")
    # Usage: what each verb needs; a card that is not active is never sent.
    code, _, err = await cli(database, *ours, "command", "start", "--to", str(party))
    assert code != 0
    assert "--card, --location" in err
    card = await emsp.store.cards.find_uid("MIA01")
    assert card is not None
    await emsp.store.cards.set_status(card.id, None, CardStatus.BLOCKED, now=NOW, actor="ops")
    code, _, err = await cli(
        database, *ours, "command", "start", "--to", str(party), "--card", "MIA01", *where
    )
    assert code != 0
    assert "is not active" in err
    code, _, err = await cli(
        database, *ours, "command", "cancel", "--to", "999", "--reservation", "R"
    )
    assert code != 0
    assert "no OCPI party 999" in err
    code, _, err = await cli(database, "command-status", "--uid", "nothing")
    assert code != 0
    assert "no command" in err
    assert await cpo.store.db.fetchval("SELECT COUNT(*) FROM ocpi_commands") == 1
