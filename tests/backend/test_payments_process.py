"""Issue 19.5 with real processes: `eflux-backend serve --payments-url/--payments-key` against
the local payment provider `python -m sim.payments`, on both engines: a top-up paid at the
provider's checkout is credited through the webhook; with the provider process gone a top-up
is 503; a half-given setting stops `serve` at start."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from backend.store import AccountKind, Role, Store

from .conftest import NOW

KEY = "test_process_key"


@asynccontextmanager
async def process(
    argv: list[str], ready_url: str, env: dict[str, str] | None = None
) -> AsyncIterator[asyncio.subprocess.Process]:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(600):
                try:
                    async with http.get(ready_url):
                        break
                except aiohttp.ClientConnectionError:
                    assert proc.returncode is None, f"{argv[:4]} ended"
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"{argv[:4]} did not answer")
        yield proc
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()


async def test_serve_with_the_provider_process(
    schema_url: str, tmp_path: Path, unused_port: Callable[[], int]
) -> None:
    store = await Store.open(schema_url)
    account = await store.accounts.create_account(AccountKind.CONSUMER, "Pro Cess", now=NOW)
    user = await store.accounts.create_user(account.id, "p@x.test", Role.CUSTOMER, now=NOW)
    token = (await store.accounts.create_user_token(user.id, "t", now=NOW)).secret
    await store.close()
    pay_port, port = unused_port(), unused_port()
    provider = f"http://127.0.0.1:{pay_port}"
    backend = f"http://127.0.0.1:{port}/api/v1"
    sim = [sys.executable, "-m", "sim.payments", "--port", str(pay_port), "--api-key", KEY]
    serve = [
        sys.executable,
        "-m",
        "backend.cli",
        "--database",
        schema_url,
        "serve",
        "--port",
        str(port),
        "--payments-url",
        provider,
        "--payments-key",
        KEY,
    ]
    auth = {"Authorization": f"Bearer {token}"}
    top_ups = f"{backend}/accounts/{account.id}/top-ups"
    async with (
        process(sim, provider + "/checkout/none") as sim_proc,
        process(serve, backend + "/health", {"EFLUX_PORTAL_OUTBOX": str(tmp_path)}),
        aiohttp.ClientSession(headers=auth) as http,
    ):
        async with http.post(top_ups, json={"amount_cents": 2500}) as response:
            assert response.status == 201
            payment = await response.json()
        async with http.post(payment["checkout_url"] + "/pay", allow_redirects=False) as paid:
            assert paid.status == 303
            assert paid.headers["Location"].endswith(f"/portal/top-ups/{payment['id']}")
        async with http.get(f"{backend}/accounts/{account.id}") as response:
            assert (await response.json())["prepaid_balance_cents"] == 2500
        sim_proc.terminate()
        await sim_proc.wait()
        async with http.post(top_ups, json={"amount_cents": 1000}) as response:
            assert response.status == 503
            assert response.headers["Retry-After"]
            assert (await response.json())["error"] == "provider_unavailable"
        async with http.get(f"{backend}/top-ups/{payment['id']}") as response:
            assert (await response.json())["status"] == "paid"  # final: the provider not asked


async def test_serve_refuses_half_a_payment_setting(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend.cli",
        "--database",
        str(tmp_path / "x.sqlite"),
        "serve",
        "--payments-url",
        "http://127.0.0.1:9",
        env={**os.environ, "EFLUX_PAYMENTS_KEY": ""},
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode != 0
    assert b"--payments-url and --payments-key go together" in err
