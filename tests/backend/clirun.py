"""Running `eflux-backend` verbs in the CLI tests: through main() in a thread (its own event
loop and database connection), or as a process; and a small world to run them against."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from contextlib import redirect_stderr, redirect_stdout
from datetime import date
from typing import Any

from backend.cli import main
from backend.demo import PLANS
from backend.store import AccountKind, CardKind, Store

from .conftest import NOW


async def process(url: str, *argv: str) -> tuple[int, Any, str]:
    """The verb as its own process (python -m backend.cli)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend.cli",
        "--database",
        url,
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, json.loads(out) if out.strip() else None, err.decode()


def run_main(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as stop:  # argparse refuses the command line
            code = int(stop.code or 0)
    return code, out.getvalue(), err.getvalue()


async def cli(url: str, *argv: str) -> tuple[int, Any, str]:
    """The verb through `eflux-backend`'s main() with its own event loop and database
    connection (in a thread: a process per verb costs seconds on a loaded machine)."""
    code, out, err = await asyncio.to_thread(run_main, ["--database", url, *argv])
    return code, json.loads(out) if out.strip() else None, err


async def world(store: Store) -> dict[str, int]:
    for plan in PLANS:
        await store.plans.save_plan(plan, now=NOW)
    account = await store.accounts.create_account(AccountKind.LEASE_DRIVER, "Lea", now=NOW)
    card = await store.cards.create_card(
        "C0FFEE01", CardKind.SUBSCRIPTION, now=NOW, account_id=account.id
    )
    await store.cards.report_lost(card.id, None, now=NOW, actor="t", order_replacement=False)
    point = await store.sites.create_charge_point(account.id, "LEA-1", now=NOW, name="Drive")
    sub = await store.plans.subscribe(
        account.id,
        "CARD-BUNDLE-100",
        applied_on=date(2026, 2, 26),
        now=NOW,
        status="active",
        starts_on=date(2026, 3, 1),
        card_id=card.id,
    )
    return {"account": account.id, "card": card.id, "point": point.id, "sub": sub.id}
