"""Pushed prices: the shapes accepted (JSON, Nordpool, ENTSO-E), merging over the tariff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.eflux.core.loadcontrol.prices import MAX_ENTRIES, PriceBook, parse_entries
from custom_components.eflux.core.planning import PlanInputError
from custom_components.eflux.core.planning.tariff import PriceEntry, Tariff, TariffZone

NOW = datetime(2026, 3, 2, 8, 20, tzinfo=UTC)
AMS = ZoneInfo("Europe/Amsterdam")


def at(hours: float) -> datetime:
    """An hour start relative to the hour NOW is in."""
    return NOW.replace(minute=0) + timedelta(hours=hours)


def test_json_nordpool_and_entsoe_shapes() -> None:
    entries = parse_entries(
        [
            {"start": "2026-03-02T10:00:00+01:00", "price": "0.2512"},  # an hour, text
            {"start": "2026-03-02T10:00:00Z", "end": "2026-03-02T10:15:00Z", "price": 1},
            # Nordpool's raw_today: datetimes and float values (HA attributes).
            {"start": datetime(2026, 3, 2, 11, 15, tzinfo=AMS), "end": at(3.5), "value": 0.1},
            {"time": "2026-03-02T12:30:00+00:00", "price": Decimal("-0.01")},  # ENTSO-E
        ]
    )
    assert entries == [
        PriceEntry(at(1), at(2), Decimal("0.2512")),
        PriceEntry(at(2), at(2.25), Decimal("1")),
        PriceEntry(at(2.25), at(3.5), Decimal("0.1")),  # via its text: not 0.1000000000000000055
        PriceEntry(at(4.5), at(5.5), Decimal("-0.01")),
    ]


@pytest.mark.parametrize(
    ("items", "field", "reason"),
    [
        ({"start": "2026-03-02T10:00:00Z", "price": 1}, "prices", "must be a list"),
        ([{"start": "x"}] * (MAX_ENTRIES + 1), "prices", f"at most {MAX_ENTRIES}"),
        (["0.21"], "prices[0]", "must be an object"),
        ([{"start": "2026-03-02T10:00:00Z"}], "prices[0].price", "is required"),
        ([{"price": 1}], "prices[0].start", "is required"),
        ([{"start": "2026-03-02T10:00:00Z", "price": 1, "value": 1}], "prices[0].price", "twice"),
        ([{"start": "2026-03-02T10:00:00Z", "price": 1, "cost": 1}], "prices[0].cost", "unknown"),
        ([{"start": "tomorrow", "price": 1}], "prices[0].start", "ISO 8601"),
        ([{"start": 1767000000, "price": 1}], "prices[0].start", "ISO 8601"),
        ([{"start": "2026-03-02T10:00:00", "price": 1}], "prices[0].start", "UTC offset"),
        ([{"start": "2026-03-02T10:00:00Z", "end": "soon", "price": 1}], "prices[0].end", "ISO"),
        ([{"start": "2026-03-02T10:00:00Z", "price": "cheap"}], "prices[0].price", "not a number"),
        ([{"start": "2026-03-02T10:00:00Z", "price": "NaN"}], "prices[0].price", "finite"),
        ([{"start": "2026-03-02T10:00:00Z", "price": float("inf")}], "prices[0].price", "finite"),
        ([{"start": "2026-03-02T10:00:00Z", "price": True}], "prices[0].price", "Decimal"),
        ([{"start": "2026-03-02T10:00:00Z", "price": [1]}], "prices[0].price", "Decimal"),
    ],
)
def test_hostile_entries_name_the_field(items: Any, field: str, reason: str) -> None:
    with pytest.raises(PlanInputError) as err:
        parse_entries(items)
    assert err.value.field == field
    assert reason in err.value.reason


def test_pushed_hours_override_the_tariff_and_merge_with_earlier_pushes() -> None:
    tariff = Tariff(AMS, Decimal("0.30"), (TariffZone(Decimal("0.21"), hours=(23, 7)),))
    book = PriceBook(tariff)
    today = [PriceEntry(at(h), at(h + 1), Decimal("0.10")) for h in range(4)]
    assert book.push(today, NOW) == 4
    tomorrow = [PriceEntry(at(h), at(h + 1), Decimal("0.12")) for h in range(3, 6)]
    assert book.push(tomorrow, NOW) == 3  # hour 3 replaced, 0..2 kept
    table = book.table(NOW)
    assert len(table) == 48
    assert table[0].start == at(0)  # the hour now is in
    assert [(r.price, r.source) for r in table[:7]] == [
        (Decimal("0.10"), "pushed"),
        (Decimal("0.10"), "pushed"),
        (Decimal("0.10"), "pushed"),
        (Decimal("0.12"), "pushed"),
        (Decimal("0.12"), "pushed"),
        (Decimal("0.12"), "pushed"),
        (Decimal("0.30"), "tariff"),  # 15:00 Amsterdam
    ]
    assert table[14].price == Decimal("0.21")  # 23:00 Amsterdam
    plan = book.for_plan(NOW, at(8))
    assert list(plan) == [at(h) for h in range(8)]
    assert plan[at(7)] == Decimal("0.30")
    # Later pushes drop the hours that are over.
    book.push([PriceEntry(at(30), at(31), Decimal(0))], NOW + timedelta(hours=2))
    assert min(book.pushed) == at(2)
    assert book.clear()
    assert not book.clear()
    assert book.table(NOW, 1)[0].source == "tariff"
    assert PriceBook().table(NOW, 1)[0].price is None


def test_a_push_that_fails_changes_nothing() -> None:
    book = PriceBook()
    book.push([PriceEntry(at(1), at(2), Decimal(1))], NOW)
    before = dict(book.pushed)
    with pytest.raises(PlanInputError, match="no whole hour"):
        book.push([PriceEntry(at(1), at(1.5), Decimal(2))], NOW)
    with pytest.raises(PlanInputError, match="days ahead"):
        book.push([PriceEntry(at(9 * 24), at(9 * 24 + 1), Decimal(2))], NOW)
    assert book.pushed == before
    assert book.push([], NOW) == 0  # e.g. Nordpool's raw_tomorrow before it is published
    assert book.pushed == before


def test_replace_forgets_what_was_pushed_before() -> None:
    book = PriceBook()
    book.push([PriceEntry(at(1), at(2), Decimal(1))], NOW)
    assert book.push([PriceEntry(at(3), at(4), Decimal(2))], NOW, replace=True) == 1
    assert book.pushed == {at(3): Decimal(2)}
    with pytest.raises(PlanInputError):  # a failing replace keeps the old prices
        book.push([PriceEntry(at(5), at(5.5), Decimal(3))], NOW, replace=True)
    assert book.pushed == {at(3): Decimal(2)}
    assert book.push([], NOW, replace=True) == 0
    assert book.pushed == {}
