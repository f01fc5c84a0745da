"""`eflux-backend invoice --month YYYY-MM` as a real process on both engines."""

from __future__ import annotations

import asyncio
import sys

import pytest

from backend.store import Store
from tests.invoicing.test_run import snapshot
from tests.invoicing.world import build

pytestmark = pytest.mark.asyncio


async def cli(*argv: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend.cli",
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_invoice_twice_changes_nothing(schema_url: str) -> None:
    store = await Store.open(schema_url)
    try:
        await build(store)
    finally:
        await store.close()
    code, out, err = await cli("invoice", "--month", "2025-01", "--database", schema_url)
    assert (code, err) == (0, "")
    assert out.splitlines()[:4] == [
        "2025-01: issued 3 documents (1 invoices, 1 overage invoices, 1 credit notes)"
        " from 5 sessions",
        "  invoiced € 81,49 incl. VAT, credited € 21,00",
        "  numbers C-2025-000001 .. C-2025-000001",
        "  numbers F-2025-000001 .. F-2025-000002",
    ]
    store = await Store.open(schema_url)
    try:
        before = await snapshot(store)
        code, out, _ = await cli("--database", schema_url, "invoice", "--month", "2025-01")
        assert code == 0
        assert out.startswith("2025-01: nothing new to issue (5 sessions loaded)")
        assert await snapshot(store) == before
    finally:
        await store.close()


async def test_invoice_in_worker_processes(schema_url: str) -> None:
    """--workers 3: partitions of the accounts in 3 processes; the same documents and summary."""
    store = await Store.open(schema_url)
    try:
        await build(store)
    finally:
        await store.close()
    code, out, err = await cli(
        "invoice", "--month", "2025-01", "--workers", "3", "--database", schema_url
    )
    assert (code, err) == (0, "")
    assert out.splitlines()[:4] == [
        "2025-01: issued 3 documents (1 invoices, 1 overage invoices, 1 credit notes)"
        " from 5 sessions",
        "  invoiced € 81,49 incl. VAT, credited € 21,00",
        "  numbers C-2025-000001 .. C-2025-000001",
        "  numbers F-2025-000001 .. F-2025-000002",
    ]
    code, out, _ = await cli(
        "invoice", "--month", "2025-01", "--workers", "3", "--database", schema_url
    )
    assert (code, out.splitlines()[0]) == (0, "2025-01: nothing new to issue (5 sessions loaded)")


@pytest.mark.parametrize(
    "month",
    [
        "2025-13",
        "2025-1",
        "25-01",
        "",
        "2025-01'; DROP TABLE x;--",
        "\uff12\uff10\uff12\uff15-01",
        "2025-00",
    ],
)
async def test_hostile_month_is_refused_and_nothing_changes(schema_url: str, month: str) -> None:
    store = await Store.open(schema_url)
    try:
        await build(store)
        before = await snapshot(store)
        code, out, err = await cli("invoice", "--month", month, "--database", schema_url)
        assert (code, out) == (2, "")
        assert err.startswith("eflux-backend invoice: ")
        assert "YYYY-MM" in err or "no such month" in err
        assert await snapshot(store) == before
    finally:
        await store.close()


async def test_bad_issue_date_is_refused(schema_url: str) -> None:
    code, _, err = await cli(
        "invoice", "--month", "2025-01", "--issued-on", "2024-12-31", "--database", schema_url
    )
    assert (code, "cannot be dated 2024-12-31" in err) == (2, True)
    code, _, err = await cli(
        "invoice", "--month", "2025-01", "--issued-on", "tomorrow", "--database", schema_url
    )
    assert (code, "tomorrow" in err) == (2, True)
