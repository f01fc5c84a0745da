"""Migration 0060 on a database that was invoiced before it, on SQLite and PostgreSQL: the
months already run are recorded as run (so their late sessions go on the next run), the lease
rates seed the rate history, and the next run of a made month issues nothing."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backend.billing.calendar import Month
from backend.invoicing import Invoicing
from backend.storage import apply_migrations, open_database
from backend.storage.migrate import MIGRATIONS_DIR

pytestmark = pytest.mark.asyncio
STAMP = "2025-02-01T03:00:00.000000Z"
LATER = datetime(2025, 3, 1, 3, 0, tzinfo=UTC)


async def test_months_invoiced_before_0060_count_as_run(schema_url: str, tmp_path: Path) -> None:
    for path in MIGRATIONS_DIR.glob("*.sql"):
        if int(path.name[:4]) < 60:
            shutil.copy(path, tmp_path / path.name)
    db = await open_database(schema_url, migrate=False)
    try:
        await apply_migrations(db, tmp_path)
        async with db.transaction() as tx:
            lea = await tx.fetchval(
                "INSERT INTO accounts (kind, name, created_at) VALUES ('lease_driver', 'Lea', ?)"
                " RETURNING id",
                STAMP,
            )
            ann = await tx.fetchval(
                "INSERT INTO accounts (kind, name, created_at) VALUES ('consumer', 'Ann', ?)"
                " RETURNING id",
                STAMP,
            )
            cp = await tx.fetchval(
                "INSERT INTO charge_points (account_id, ocpp_id, name, created_at)"
                " VALUES (?, 'LEA-CP', 'LEA-CP', ?) RETURNING id",
                lea,
                STAMP,
            )
            invoice = await tx.fetchval(
                "INSERT INTO invoices (account_id, number, kind, document_kind, month, run_month,"
                " issued_on, due_on, status, net_cents, vat_cents, gross_cents, customer_name,"
                " created_at) VALUES (?, 'F-2025-000001', 'invoice', 'invoice', '2025-01',"
                " '2025-01', '2025-02-01', '2025-02-15', 'open', 100, 21, 121, 'Ann', ?)"
                " RETURNING id",
                ann,
                STAMP,
            )
            await tx.execute(
                "INSERT INTO invoice_lines (invoice_id, position, kind, description, quantity,"
                " vat_rate, net_cents, vat_cents, gross_cents) VALUES (?, 1, 'transfer_fee',"
                " 'Transfer', '1', 'standard', 100, 21, 121)",
                invoice,
            )
            await tx.execute(
                "INSERT INTO lease_drivers (account_id, charge_point_id, rate_cents_per_kwh,"
                " iban, active_from, updated_at) VALUES (?, ?, '22.5', NULL, '2025-01-10', ?)",
                lea,
                cp,
                STAMP,
            )
            await tx.execute(
                "INSERT INTO lease_reimbursements (account_id, month, energy_wh, cents,"
                " rate_cents_per_kwh, iban, session_ids, created_at)"
                " VALUES (?, '2025-02', 1000, 23, '22.5', NULL, '', ?)",
                lea,
                STAMP,
            )
        assert (await apply_migrations(db))[0] == 60  # and any later ones
        runs = await db.fetch("SELECT month, run_at FROM invoice_runs ORDER BY month")
        assert [(r["month"], r["run_at"]) for r in runs] == [("2025-01", STAMP), ("2025-02", STAMP)]
        rates = await db.fetch(
            "SELECT account_id, since, rate_cents_per_kwh FROM lease_driver_rates"
        )
        assert [(int(r["account_id"]), r["since"], r["rate_cents_per_kwh"]) for r in rates] == [
            (lea, STAMP, "22.5")
        ]
        (statement,) = await Invoicing(db).list_reimbursements(lea, None)
        assert (statement.status, statement.groups) == ("pending", ())
        again = await Invoicing(db).run_month(Month(2025, 1), now=LATER)
        assert (again.issued, again.run_at is not None) == (0, True)
    finally:
        await db.close()
