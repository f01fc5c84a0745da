"""`eflux-backend ocpi …` and `serve --ocpi-party` as real processes: issue-token, register
with a running CPO (and a refused token A that leaves nothing), list parties; usage errors of
place/register/--party in process."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from backend.cli import main
from backend.ocpi.envelope import token_header
from backend.ocpi.parties import Parties
from backend.store import Store

from .conftest import NOW, Start


async def cli(database: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend.cli",
        "--database",
        str(database),
        "ocpi",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("engine_dsn", ["sqlite"], indirect=True)
async def test_issue_token_and_register_from_the_command_line(
    start_platform: Start, tmp_path: Path
) -> None:
    cpo = await start_platform("NL-CPO")
    _, token_a = await cpo.parties.issue_token_a("cli eMSP", now=NOW)
    ours = tmp_path / "emsp.sqlite"
    code, out, err = await cli(ours, "issue-token", "--name", "someone")
    assert code == 0, err
    assert len(json.loads(out)["token"]) >= 40

    emsp = await start_platform("NL-MSP")
    code, out, err = await cli(
        tmp_path / "NL-MSP.sqlite",
        "--party",
        "NL-MSP",
        "--public-url",
        emsp.settings.base_url,
        "register",
        "--url",
        cpo.settings.versions_url,
        "--token",
        token_a,
        "--name",
        "the CPO",
    )
    assert code == 0, err
    assert "locations/SENDER" in json.loads(out)["endpoints"]
    assert (await cpo.only_party()).status == "registered"

    code, out, err = await cli(
        ours,
        "--public-url",
        "http://127.0.0.1:1",
        "register",
        "--url",
        cpo.settings.versions_url,
        "--token",
        "wrong",
    )
    assert code == 1
    assert "OCPI status 3001" in err  # the CPO refused token "wrong": nothing kept
    code, out, _ = await cli(ours, "parties")
    assert out == ""


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """In process: a place needs a real site and an alpha-3 country; register needs our URL."""
    db = str(tmp_path / "x.sqlite")
    place = [
        "--database",
        db,
        "ocpi",
        "place",
        "--address",
        "a",
        "--city",
        "b",
        "--postal-code",
        "c",
        "--latitude",
        "52.1",
        "--longitude",
        "5.1",
    ]
    assert main([*place, "--site", "99", "--country", "NLD"]) == 1
    assert "site 99" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="alpha-3"):
        main([*place, "--site", "1", "--country", "NL"])
    with pytest.raises(SystemExit, match="--public-url"):
        main(["--database", db, "ocpi", "register", "--url", "http://x", "--token", "t"])
    with pytest.raises(SystemExit, match="party"):
        main(["--database", db, "ocpi", "--party", "NLX", "--public-url", "http://x", "sync"])


async def test_serve_with_ocpi_party(tmp_path: Path, unused_port: Callable[[], int]) -> None:
    """`serve --ocpi-party` mounts /ocpi at the public URL; without it nothing is there."""
    database = tmp_path / "served.sqlite"
    store = await Store.open(str(database))
    try:
        _, token_a = await Parties(store.db).issue_token_a("hub", now=NOW)
    finally:
        await store.close()
    for with_ocpi in (True, False):
        port = unused_port()
        base = f"http://127.0.0.1:{port}"
        extra = ["--ocpi-party", "NL-EFX", "--public-url", base] if with_ocpi else []
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "backend.cli",
            "--database",
            str(database),
            "serve",
            "--port",
            str(port),
            *extra,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            async with aiohttp.ClientSession() as http:
                for _ in range(400):
                    try:
                        async with http.get(
                            f"{base}/ocpi/versions",
                            headers={"Authorization": token_header(token_a)},
                        ) as resp:
                            status, body = resp.status, await resp.text()
                        break
                    except aiohttp.ClientConnectionError:
                        assert proc.returncode is None
                        await asyncio.sleep(0.05)
            if with_ocpi:
                assert status == 200, body
                assert json.loads(body)["data"] == [
                    {"version": "2.2.1", "url": f"{base}/ocpi/2.2.1"}
                ]
            else:
                assert status == 404
        finally:
            proc.terminate()
            await proc.wait()
