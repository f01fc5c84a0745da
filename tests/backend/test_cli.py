"""`eflux-backend` end to end: migrate, seed-demo (twice), create-admin, create-token, serve."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from backend.cli import main
from backend.storage import migration_files


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_migrate_seed_admin_and_tokens(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "cli.sqlite")
    numbers = [n for n, _ in migration_files()]
    assert numbers[:2] == [1, 2]
    assert _run(capsys, "--database", db, "migrate") == (0, f"applied migrations: {numbers}\n")
    assert _run(capsys, "--database", db, "migrate") == (0, "the schema is up to date\n")
    code, out = _run(capsys, "--database", db, "seed-demo")
    first = json.loads(out)
    assert code == 0
    assert first["site_token"].startswith("efx_")
    code, out = _run(capsys, "--database", db, "seed-demo")
    second = json.loads(out)
    assert second["site_id"] == first["site_id"]
    assert second["site_token"] != first["site_token"]
    code, out = _run(capsys, "--database", db, "create-admin", "--email", "ops@x.test")
    assert code == 0
    assert json.loads(out)["token"].startswith("efx_")
    code, out = _run(
        capsys, "--database", db, "create-token", "--site", str(first["site_id"]), "--days", "30"
    )
    assert json.loads(out)["kind"] == "site"
    assert main(["--database", db, "create-token", "--email", "nobody@x.test"]) == 1
    assert "no user" in capsys.readouterr().err
    assert main(["--database", db, "create-admin", "--email", "ops@x.test"]) == 1


async def test_serve_answers_on_loopback(tmp_path: Path, unused_port: Callable[[], int]) -> None:
    port = unused_port()
    db = str(tmp_path / "serve.sqlite")
    seed = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend.cli",
        "--database",
        db,
        "seed-demo",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await seed.communicate()
    assert seed.returncode == 0
    token = json.loads(out)["site_token"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "backend.cli", "--database", db, "serve", "--port", str(port)
    )
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(
                        f"http://127.0.0.1:{port}/api/v1/sync/cards",
                        headers={"Authorization": f"Bearer {token}"},
                    ) as r:
                        body = await r.json()
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            else:
                pytest.fail("eflux-backend serve did not answer")
        assert {c["uid"] for c in body["cards"]} == {"DEMO-CARD-ANNA", "DEMO-CARD-BRAM"}
    finally:
        proc.terminate()
        await proc.wait()
