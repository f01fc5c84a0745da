"""site.yaml `central.cards` and `central.master_pass_group`, for `parse._central`.

central:
  master_pass_group: MASTER        # its cards may stop any session (never start one)
  cards:
    - 04A2B3C4                     # a plain id: accepted
    - {id: 04FF0011, status: Blocked}
    - {id: 04AA0022, expires: "2027-01-01T00:00:00+01:00", group: STAFF}
    - {id: 04BB0033, group: MASTER}
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..central.sitecards import OCPP_STATUS
from ..domain import Card
from ..errors import ConfigError
from .console import PERSON_KEYS
from .reader import Section


def parse_cards(sec: Section) -> dict[str, Any]:
    """The card fields of `AuthorizationSettings` from the `central:` section."""
    plain: set[str] = set()
    entries: dict[str, Card] = {}
    for index, item in enumerate(sec.items("cards")):
        key = f"{sec.path('cards')}[{index}]"
        if isinstance(item, str | int) and not isinstance(item, bool):
            uid = str(item).strip()
            if not uid:
                raise ConfigError(key, "must not be empty")
            plain.add(uid)
            continue
        card = card_entry(Section(item, key))
        if card.uid.upper() in {uid.upper() for uid in [*plain, *entries]}:
            raise ConfigError(key, f"card {card.uid!r} is listed twice")
        entries[card.uid] = card
    return {
        "cards": frozenset(plain),
        "card_entries": tuple(entries.values()),
        "master_pass_group": sec.text("master_pass_group", None),
    }


def card_entry(sec: Section) -> Card:
    uid = sec.text("id")
    if len(uid) > 36:
        raise ConfigError(sec.path("id"), "at most 36 characters (2.0.1 idToken)")
    status = sec.text("status", "Accepted")
    if status not in OCPP_STATUS:
        raise ConfigError(
            sec.path("status"), f"must be one of {', '.join(OCPP_STATUS)}, got {status!r}"
        )
    card = Card(
        uid=uid,
        status=OCPP_STATUS[status],
        expires_at=_moment(sec, "expires"),
        group_id=sec.text("group", None),
    )
    for name in PERSON_KEYS:  # who holds the card: read by config/console.py
        sec.raw(name, None)
    sec.done()
    return card


def _moment(sec: Section, name: str) -> datetime | None:
    value = sec.raw(name, None)
    if value is None:
        return None
    if isinstance(value, datetime):  # YAML reads an unquoted timestamp itself
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise ConfigError(sec.path(name), f"not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise ConfigError(sec.path(name), "needs a UTC offset (e.g. +01:00 or Z)")
    return moment.astimezone(UTC)
