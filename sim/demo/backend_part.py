"""The cloud back end for the demo: a SQLite file seeded with the demo's accounts, cards, plans
and site (`eflux-backend seed-demo`), then served on a free loopback port, with the local
payment provider (`python -m sim.payments`) for prepaid top-ups."""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from .procs import Children, StartupError, free_port, port_open


@dataclass(frozen=True, slots=True)
class Backend:
    url: str
    site_token: str
    logins: dict[str, str]  # e-mail -> password
    payments_url: str  # the local payment provider's checkout pages live here


async def seed(argv: list[str], timeout_s: float = 60.0) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        *argv, "seed-demo", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise StartupError(f"eflux-backend seed-demo took longer than {timeout_s:.0f} s") from None
    if process.returncode != 0:
        raise StartupError(
            f"eflux-backend seed-demo failed ({process.returncode}): {err.decode()[-2000:]}"
        )
    try:
        data: dict[str, Any] = json.loads(out)
    except ValueError as error:
        raise StartupError(f"eflux-backend seed-demo printed no JSON: {out[:500]!r}") from error
    return data


async def start_backend(children: Children, command: list[str], workdir: Path) -> Backend:
    base = [*command, "--database", str(workdir / "backend.sqlite")]
    seeded = await seed(base)
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    async def healthy() -> bool:
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session,
                session.get(f"{url}/api/v1/health") as response,
            ):
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    payments_url, payments_key = await start_payments(children)
    # The portal's reset mails link to the URL the demo prints (never the request's Host).
    serve = [
        *base,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--public-url",
        url,
        "--payments-url",
        payments_url,
        "--payments-key",
        payments_key,
    ]
    await children.start("eflux-backend", serve, ready=healthy)
    logins = {email: user["password"] for email, user in seeded["users"].items()}
    return Backend(url, seeded["site_token"], logins, payments_url)


async def start_payments(children: Children) -> tuple[str, str]:
    """The local payment provider on a free port; its URL and a fresh API key."""
    port, key = free_port(), f"test_{secrets.token_hex(8)}"

    async def listening() -> bool:
        return await port_open(port)

    await children.start(
        "payments",
        [sys.executable, "-m", "sim.payments", "--port", str(port), "--api-key", key],
        ready=listening,
    )
    return f"http://127.0.0.1:{port}", key
