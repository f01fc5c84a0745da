"""The worked example of docs/billing.md, computed: the doc must show exactly what the code does."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from backend.billing.calendar import Month
from backend.billing.charges import CardRecord, report_lost
from backend.billing.contracts import Contract, accept
from backend.billing.invoicer import MonthInput, run_month
from backend.billing.invoices import describe
from backend.billing.outages import Outage, OutageCause

from .factories import CARD_BUNDLE, CP_FIXED, local, own_session, session

DOC = Path(__file__).resolve().parents[2] / "docs" / "billing.md"


def worked_example() -> str:
    """January 2025 for one consumer: a charge point and a bundle card, both from 16 January."""
    charge_point = accept(
        Contract("cp-1", "a1", CP_FIXED, applied_on=date(2024, 12, 30), charge_point_id="cp-home"),
        date(2025, 1, 1),  # accepted 1 Jan: cooling-off to 15 Jan, service from 16 Jan
    )
    card = accept(
        Contract("card-1", "a1", CARD_BUNDLE, applied_on=date(2025, 1, 16)), date(2025, 1, 17)
    )
    spare, replacement = report_lost(
        CardRecord("card2", "a1", "card-1"),
        local("2025-01-20 09:00"),
        order_replacement=True,
        charge_id="lost-card2",
    )
    assert replacement is not None
    sessions = [
        own_session("s1", "2025-01-20 18:00", 120, 30_000),
        own_session("s2", "2025-01-25 09:00", 180, 30_000),
        own_session("s3", "2025-01-28 12:00", 30, 12_000, fast=True),
        session("s4", "2025-01-29 10:00", 60, 10_000),
        session("s5", "2025-01-31 23:30", 105, 20_000),
    ]
    start = local("2025-01-22 06:00")
    outage = Outage("out-7", "cp-1", start, start + timedelta(hours=30), OutageCause.OUR_SOFTWARE)
    inp = MonthInput(
        Month(2025, 1),
        [charge_point, card],
        [CardRecord("card1", "a1", "card-1"), spare],
        sessions,
        charges=[replacement],
        outages=[outage],
    )
    run = run_month(inp, {"F-2025": 0})
    return "\n\n".join(describe(invoice) for invoice in run.invoices)


def test_worked_example_in_the_docs_is_what_the_code_computes() -> None:
    text = worked_example()
    assert "total" in text
    assert text in DOC.read_text(encoding="utf-8")
