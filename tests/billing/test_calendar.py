"""Calendar: months, month arithmetic at month ends, Dutch business days, local time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from backend.billing.calendar import (
    Month,
    Period,
    add_business_days,
    add_months,
    dutch_holidays,
    easter_sunday,
    is_business_day,
    local_month,
    months_started,
    next_business_day,
)
from backend.billing.errors import BillingError


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),  # start on the 31st, February
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2024, 2, 29), 12, date(2025, 2, 28)),  # a leap day plus a year
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2025, 11, 1), -1, date(2025, 10, 1)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 1, 31), 12, date(2026, 1, 31)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_month_properties() -> None:
    feb = Month.parse("2024-02")
    assert (feb.first, feb.last, feb.end, feb.days) == (
        date(2024, 2, 1),
        date(2024, 2, 29),
        date(2024, 3, 1),
        29,
    )
    assert Month(2025, 2).days == 28
    assert Month(2025, 12).next() == Month(2026, 1)
    assert Month(2026, 1).prev() == Month(2025, 12)
    assert str(Month(2025, 3)) == "2025-03"


FULL_WIDTH_2025 = "\uff12\uff10\uff12\uff15"


@pytest.mark.parametrize(
    "text",
    ["2025-13", "2025-1", "25-01", "2025/01", "", "2025-00", f"{FULL_WIDTH_2025}-01", "2025-01\n"],
)
def test_bad_month_is_a_clear_error(text: str) -> None:
    with pytest.raises(BillingError, match="month"):
        Month.parse(text)


def test_period_is_half_open() -> None:
    period = Period(date(2025, 1, 16), date(2025, 2, 1))
    assert period.days == 16
    assert date(2025, 1, 31) in period
    assert date(2025, 2, 1) not in period
    with pytest.raises(BillingError):
        Period(date(2025, 2, 1), date(2025, 1, 1))


@pytest.mark.parametrize(
    ("start", "until", "count"),
    [
        (date(2025, 3, 1), date(2025, 3, 1), 0),
        (date(2025, 3, 1), date(2025, 3, 2), 1),
        (date(2025, 3, 1), date(2025, 4, 1), 1),  # exactly one month
        (date(2025, 3, 1), date(2025, 4, 2), 2),  # a day into the second month
    ],
)
def test_months_started(start: date, until: date, count: int) -> None:
    assert months_started(start, until) == count


def test_easter_and_dutch_holidays_2025() -> None:
    assert easter_sunday(2025) == date(2025, 4, 20)
    assert easter_sunday(2024) == date(2024, 3, 31)
    assert dutch_holidays(2025) == {
        date(2025, 1, 1),
        date(2025, 4, 21),
        date(2025, 5, 29),
        date(2025, 6, 9),
        date(2025, 4, 26),  # King's Day on Saturday: 27 April 2025 is a Sunday
        date(2025, 5, 5),
        date(2025, 12, 25),
        date(2025, 12, 26),
    }
    assert is_business_day(date(2025, 4, 18))  # Good Friday is not a general holiday


def test_business_days_skip_weekends_and_holidays() -> None:
    # Thursday 24 April 2025 + 10 business days: skips weekends and Liberation Day (Mon 5 May).
    assert add_business_days(date(2025, 4, 24), 10) == date(2025, 5, 9)
    # Wednesday 24 Dec: 25 and 26 Dec are holidays, then a weekend.
    assert add_business_days(date(2025, 12, 24), 1) == date(2025, 12, 29)
    assert next_business_day(date(2025, 3, 15)) == date(2025, 3, 17)
    assert next_business_day(date(2025, 3, 17)) == date(2025, 3, 17)


def test_month_of_a_timestamp_is_amsterdam_time() -> None:
    # 31 Jan 23:30 UTC is already 1 February in Amsterdam (UTC+1 in winter).
    assert local_month(datetime(2025, 1, 31, 23, 30, tzinfo=UTC)) == Month(2025, 2)
    assert local_month(datetime(2025, 1, 31, 22, 59, tzinfo=UTC)) == Month(2025, 1)
    # Summer time: 31 Aug 22:00 UTC is 1 September 00:00 local (UTC+2).
    assert local_month(datetime(2025, 8, 31, 22, 0, tzinfo=UTC)) == Month(2025, 9)
    with pytest.raises(BillingError, match="timezone-aware"):
        local_month(datetime(2025, 1, 31, 23, 30))
