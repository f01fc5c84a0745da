"""Tariff -> hourly prices (local time, DST days) and pushed entries -> hourly prices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from custom_components.eflux.core.loadcontrol.prices import PriceBook
from custom_components.eflux.core.planning import CarDemand, PlanInputError, plan
from custom_components.eflux.core.planning.tariff import (
    PriceEntry,
    Tariff,
    TariffZone,
    hourly_from_entries,
    tariff_prices,
)

AMS = ZoneInfo("Europe/Amsterdam")
DAY, NIGHT, WEEKEND = Decimal("0.30"), Decimal("0.21"), Decimal("0.24")
# The Dutch double tariff: nights 23-7 and weekends cheap. The night comes first: it wins on
# weekend nights too (the first zone that covers an hour wins).
DUTCH = Tariff(
    timezone=AMS,
    price=DAY,
    zones=(
        TariffZone(NIGHT, hours=(23, 7)),
        TariffZone(WEEKEND, days=frozenset({5, 6})),
    ),
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local_prices(tariff: Tariff, day: datetime) -> dict[int, Decimal]:
    """Price per local hour of the day (hours of a DST day listed as they occur)."""
    start = day.replace(tzinfo=AMS).astimezone(UTC)
    prices = tariff_prices(tariff, start, start + timedelta(hours=25))
    return {
        h.astimezone(AMS).hour: p
        for h, p in prices.items()
        if h.astimezone(AMS).date() == day.date()
    }


def test_a_weekday_has_a_cheap_night_and_the_fixed_price_by_day() -> None:
    prices = local_prices(DUTCH, datetime(2026, 3, 4))  # a Wednesday
    assert [h for h, p in prices.items() if p == NIGHT] == [0, 1, 2, 3, 4, 5, 6, 23]
    assert all(prices[h] == DAY for h in range(7, 23))


def test_the_first_zone_that_covers_an_hour_wins() -> None:
    saturday = local_prices(DUTCH, datetime(2026, 3, 7))
    assert saturday[3] == NIGHT  # the night is listed first
    assert saturday[23] == NIGHT
    assert saturday[12] == WEEKEND
    weekend_first = Tariff(AMS, DAY, (DUTCH.zones[1], DUTCH.zones[0]))
    assert local_prices(weekend_first, datetime(2026, 3, 7))[3] == WEEKEND


def test_spring_forward_the_night_is_seven_hours_long() -> None:
    # 29 March 2026: 02:00 CET becomes 03:00 CEST; the 23-7 night of 28-29 March has 7 hours.
    start = utc(2026, 3, 28, 22)  # 23:00 CET
    prices = tariff_prices(
        Tariff(AMS, DAY, (TariffZone(NIGHT, hours=(23, 7)),)), start, start + timedelta(hours=12)
    )
    night = [h for h, p in prices.items() if p == NIGHT]
    assert night == [utc(2026, 3, 28, 22) + timedelta(hours=i) for i in range(7)]
    assert prices[utc(2026, 3, 29, 5)] == DAY  # 07:00 CEST
    assert len(local_prices(DUTCH, datetime(2026, 3, 29))) == 23


def test_fall_back_the_night_is_nine_hours_long() -> None:
    # 25 October 2026: 03:00 CEST becomes 02:00 CET; 02:00-03:00 local happens twice.
    start = utc(2026, 10, 24, 21)  # 23:00 CEST
    tariff = Tariff(AMS, DAY, (TariffZone(NIGHT, hours=(23, 7)),))
    prices = tariff_prices(tariff, start, start + timedelta(hours=12))
    night = [h for h, p in prices.items() if p == NIGHT]
    assert night == [utc(2026, 10, 24, 21) + timedelta(hours=i) for i in range(9)]
    assert prices[utc(2026, 10, 25, 6)] == DAY  # 07:00 CET


def test_days_wrap_and_zones_without_a_fixed_price_leave_hours_unpriced() -> None:
    tariff = Tariff(AMS, None, (TariffZone(Decimal("-0.05"), hours=(12, 14)),))
    start = utc(2026, 6, 1, 0)
    prices = tariff_prices(tariff, start, start + timedelta(days=1))
    # 12:00-14:00 CEST = 10:00-12:00 UTC; the rest has no price (the planner uses it last).
    assert prices == {utc(2026, 6, 1, 10): Decimal("-0.05"), utc(2026, 6, 1, 11): Decimal("-0.05")}
    assert tariff_prices(None, start, start + timedelta(days=1)) == {}


def test_the_first_hour_is_the_one_now_is_in() -> None:
    prices = tariff_prices(Tariff(AMS, DAY), utc(2026, 6, 1, 8, 40), utc(2026, 6, 1, 10, 5))
    assert list(prices) == [utc(2026, 6, 1, 8), utc(2026, 6, 1, 9), utc(2026, 6, 1, 10)]


def test_a_half_hour_offset_takes_the_local_hour_it_starts_in() -> None:
    india = Tariff(ZoneInfo("Asia/Kolkata"), DAY, (TariffZone(NIGHT, hours=(0, 6)),))
    # 18:30 UTC = 00:00 IST ... 23:30 UTC = 05:00 IST; 00:30 UTC = 06:00 IST.
    start = utc(2026, 6, 1, 18)
    prices = tariff_prices(india, start, start + timedelta(hours=8))
    assert [h.hour for h, p in prices.items() if p == NIGHT] == [19, 20, 21, 22, 23, 0]


def entry(start: datetime, minutes: int, price: str) -> PriceEntry:
    return PriceEntry(start, start + timedelta(minutes=minutes), Decimal(price))


def test_quarter_hour_entries_average_into_their_hour() -> None:
    t = utc(2026, 6, 1, 10)
    quarters = [entry(t + timedelta(minutes=15 * i), 15, p) for i, p in enumerate("1234")]
    assert hourly_from_entries(quarters) == {t: Decimal("2.5")}
    thirds = [entry(t, 15, "0.10"), entry(t + timedelta(minutes=15), 45, "0.20")]
    assert hourly_from_entries(thirds) == {t: Decimal("0.175")}
    odd = [entry(t, 15, "0.01"), entry(t + timedelta(minutes=15), 45, "0")]
    assert hourly_from_entries(odd) == {t: Decimal("0.0025")}
    repeating = [entry(t, 15, "0.01"), entry(t + timedelta(minutes=15), 45, "0.02")]
    assert hourly_from_entries(repeating) == {t: Decimal("0.0175")}


def test_a_partly_covered_hour_gets_no_pushed_price_and_long_entries_span_hours() -> None:
    t = utc(2026, 6, 1, 10)
    assert hourly_from_entries([entry(t, 45, "0.1")]) == {}
    assert hourly_from_entries([entry(t + timedelta(minutes=30), 120, "0.1")]) == {
        t + timedelta(hours=1): Decimal("0.1")
    }
    # An offset given with the entry is only a way of writing the time.
    local = PriceEntry(
        datetime(2026, 6, 1, 12, tzinfo=AMS), datetime(2026, 6, 1, 13, tzinfo=AMS), NIGHT
    )
    assert hourly_from_entries([local]) == {t: NIGHT}


@pytest.mark.parametrize(
    ("entries", "field", "reason"),
    [
        ([entry(utc(2026, 6, 1, 10, 5), 60, "1")], "prices[0].start", "quarter-hour"),
        ([entry(utc(2026, 6, 1, 10), 0, "1")], "prices[0].end", "after start"),
        ([entry(utc(2026, 6, 1, 10), 60 * 25, "1")], "prices[0].end", "a day"),
        ([entry(utc(2026, 6, 1, 10), 60, "NaN")], "prices[0].price", "finite"),
        ([entry(utc(2026, 6, 1, 10), 60, "Infinity")], "prices[0].price", "finite"),
        ([entry(utc(2026, 6, 1, 10), 60, "85000000")], "prices[0].price", "per MWh"),
        (
            [entry(utc(2026, 6, 1, 11), 60, "1"), entry(utc(2026, 6, 1, 10), 90, "1")],
            "prices[0]",
            "overlaps prices[1]",
        ),
        (
            [PriceEntry(datetime(2026, 6, 1, 10), datetime(2026, 6, 1, 11), Decimal(1))],
            "prices[0].start",
            "UTC offset",
        ),
        (
            [PriceEntry(utc(2026, 6, 1, 10), utc(2026, 6, 1, 11), 0.3)],  # type: ignore[arg-type]
            "prices[0].price",
            "never float",
        ),
    ],
)
def test_bad_entries_are_refused_naming_the_entry(
    entries: list[PriceEntry], field: str, reason: str
) -> None:
    with pytest.raises(PlanInputError) as err:
        hourly_from_entries(entries)
    assert err.value.field == field
    assert reason in err.value.reason


def test_the_worked_example_of_docs_load_balancing() -> None:
    """docs/load-balancing.md, "Where the prices come from": 18:00, 26.7 kWh at 11 kW."""
    now = datetime(2026, 3, 2, 18, tzinfo=AMS)
    book = PriceBook(Tariff(AMS, DAY, (TariffZone(NIGHT, hours=(23, 7)),)))
    morning, evening = (
        datetime(2026, 3, 3, 7, 30, tzinfo=AMS),
        datetime(2026, 3, 2, 19, 30, tzinfo=AMS),
    )

    def cost(departure: datetime) -> tuple[Decimal | None, datetime | None, float]:
        car = CarDemand("car", departure, 60.0, 40.0, 11.0, 80.0)
        result = plan([car], now, 17.0, book.for_plan(now, departure)).cars["car"]
        return result.estimated_cost, result.expected_finish, round(result.shortfall_kwh, 1)

    assert cost(morning) == (Decimal("5.60"), datetime(2026, 3, 3, 1, 30, tzinfo=AMS), 0.0)
    assert cost(evening) == (Decimal("4.95"), None, 10.2)
    pushed = PriceEntry(
        datetime(2026, 3, 3, 3, tzinfo=AMS), datetime(2026, 3, 3, 5, tzinfo=AMS), Decimal("0.08")
    )
    book.push([pushed], now)
    assert cost(morning) == (Decimal("2.74"), datetime(2026, 3, 3, 5, tzinfo=AMS), 0.0)
