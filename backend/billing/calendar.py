"""Dates for billing: calendar months, half-open periods, Dutch business days, local time.

Conventions (docs/billing.md, "Dates and time"):
- dates are `date`; a service period is half-open `[start, end)`: `end` is the first day no
  longer in service ("the minimum term ends on 1 November" = last day of service 31 October);
- timestamps are timezone-aware; which month or day a session belongs to is decided in
  Europe/Amsterdam local time, because that is the calendar on the customer's invoice;
- business days ("werkdagen") are Monday-Friday except the holidays of the Algemene
  termijnenwet (the Dutch statute for legal deadlines), so Good Friday is a business day.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .errors import BillingError

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")  # ASCII only: \d also matches full-width digits


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A billing period: the 1st to the last day of a calendar month (art. 9.2)."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not (1 <= self.month <= 12 and 1900 <= self.year <= 9998):
            raise BillingError(f"no such month: {self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str) -> Month:
        """'2025-02' → Month(2025, 2); anything else is a clear error."""
        match = _MONTH.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise BillingError(f"month must look like YYYY-MM, got {text!r}")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        return date(self.year, self.month, self.days)

    @property
    def end(self) -> date:
        """The first day after this month (exclusive end)."""
        return self.next().first

    @property
    def days(self) -> int:
        return _stdlib_calendar.monthrange(self.year, self.month)[1]

    @property
    def period(self) -> Period:
        return Period(self.first, self.end)

    def plus(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def next(self) -> Month:
        return self.plus(1)

    def prev(self) -> Month:
        return self.plus(-1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class Period:
    """Half-open date range `[start, end)`."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise BillingError(f"period ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end

    def intersect(self, other: Period) -> Period | None:
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Period(start, end) if start < end else None


def add_months(day: date, months: int) -> date:
    """Same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    target = Month.of(day).plus(months)
    return date(target.year, target.month, min(day.day, target.days))


def months_started(start: date, until: date) -> int:
    """How many (parts of) months run from `start` to `until` (0 when `until` <= `start`)."""
    count = 0
    while add_months(start, count) < until:
        count += 1
    return count


def require_aware(moment: datetime, what: str = "timestamp") -> datetime:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise BillingError(f"{what} must be a timezone-aware datetime, got {moment!r}")
    return moment


def local_date(moment: datetime) -> date:
    """The Amsterdam calendar day of an aware timestamp."""
    return require_aware(moment).astimezone(AMSTERDAM).date()


def local_month(moment: datetime) -> Month:
    return Month.of(local_date(moment))


def local_midnight(day: date) -> datetime:
    """The aware instant at which Amsterdam day `day` begins."""
    return datetime(day.year, day.month, day.day, tzinfo=AMSTERDAM)


def easter_sunday(year: int) -> date:
    """Gregorian Easter (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * ell) // 433
    month = (h + ell - 7 * m + 90) // 25
    return date(year, month, (h + ell - 7 * m + 33 * month + 19) % 32)


def _kings_day(year: int) -> date:
    # 27 April since 2014 (30 April before); moved to the Saturday before when it falls on Sunday.
    day = date(year, 4, 27) if year >= 2014 else date(year, 4, 30)
    return day - timedelta(days=1) if day.weekday() == 6 else day


def dutch_holidays(year: int) -> frozenset[date]:
    """The general holidays of the Algemene termijnenwet (art. 3) in `year`."""
    easter = easter_sunday(year)
    return frozenset(
        {
            date(year, 1, 1),
            easter + timedelta(days=1),  # Easter Monday
            easter + timedelta(days=39),  # Ascension Day
            easter + timedelta(days=50),  # Whit Monday
            _kings_day(year),
            date(year, 5, 5),  # Liberation Day
            date(year, 12, 25),
            date(year, 12, 26),
        }
    )


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in dutch_holidays(day.year)


def add_business_days(day: date, count: int) -> date:
    """The `count`-th business day after `day` (`day` itself not counted)."""
    if count < 0:
        raise BillingError("count of business days must not be negative")
    while count:
        day += timedelta(days=1)
        count -= is_business_day(day)
    return day


def next_business_day(day: date) -> date:
    """`day` itself when it is a business day, else the first one after it."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day
