"""Stored time text ↔ the billing domain's dates and moments (storage.timefmt's fixed-width UTC
text with "Z"; billing months and days are Amsterdam's)."""

from __future__ import annotations

from datetime import date, datetime

from ..billing.calendar import local_date, local_midnight
from ..storage import to_db


def utc_text(day: date) -> str:
    """The stored text of the start of Amsterdam `day` (a bound of a query's time window)."""
    text = to_db(local_midnight(day))
    assert text is not None
    return text


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)  # fixed-width UTC text with "Z" (storage.timefmt)


def local_day(text: str) -> date:
    return local_date(moment(text))
