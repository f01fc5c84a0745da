"""Money rules of issue 19 item 4 in the pure domain, each named after its clause of the terms
(shared/seeds 001, Dutch). Store and API sides: tests/backend/test_clauses.py and
tests/invoicing/test_clauses.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from backend.billing.calendar import Month
from backend.billing.guest_usage import GuestOwner, GuestSetting, guest_credit_note
from backend.billing.sessions import Network, SessionTariff

from .factories import local, session

CARDS = {"guest1": "guest"}
ISSUED = date(2025, 5, 1)


def _owner(*settings: tuple[str, bool, int]) -> GuestOwner:
    """An owner whose charge point cp-o had these (from, open, ct/kWh) settings."""
    history = tuple(GuestSetting("cp-o", local(at), open_, SessionTariff(per_kwh_cents=Decimal(ct)))
                    for at, open_, ct in settings)
    return GuestOwner("own", frozenset({"cp-o"}), SessionTariff(per_kwh_cents=Decimal(999)),
                      Decimal(22), history=history)


def _credited(owner: GuestOwner, *starts: str) -> list[int]:
    guests = [session(f"g{n}", start, 60, 10_000, card="guest1", cp="cp-o", network=Network.OWN)
              for n, start in enumerate(starts)]
    note = guest_credit_note(owner, guests, CARDS, Month(2025, 4), ISSUED)
    return [] if note is None else [line.amount.gross for line in note.lines]


def test_art_28_5_a_tariff_raised_after_the_session_does_not_change_its_credit() -> None:
    """Issue 19: 35 → 70 ct after the session credited €7.00 while the guest paid €3.50."""
    owner = _owner(("2025-03-01 00:00", True, 35), ("2025-04-10 12:00", True, 70))
    assert _credited(owner, "2025-04-09 10:00") == [350]
    assert _credited(owner, "2025-04-10 12:00") == [700]  # from the moment it took effect
    assert _credited(owner, "2025-04-09 10:00", "2025-04-11 10:00") == [350, 700]


def test_art_28_5_closed_to_guests_at_the_start_earns_no_credit() -> None:
    owner = _owner(("2025-03-01 00:00", False, 35), ("2025-04-10 12:00", True, 35),
                   ("2025-04-20 00:00", False, 35))
    assert _credited(owner, "2025-04-09 10:00", "2025-04-15 10:00", "2025-04-21 10:00") == [350]


def test_art_28_5_before_the_first_setting_the_first_applies() -> None:
    owner = _owner(("2025-04-10 00:00", True, 35))
    assert _credited(owner, "2025-04-02 10:00") == [350]


@given(st.lists(st.tuples(st.integers(0, 29 * 24), st.booleans(), st.integers(0, 75)),
                min_size=1, max_size=6),
       st.integers(0, 29 * 24 - 1))
def test_art_28_5_the_credit_is_the_setting_in_force_at_the_start(
    changes: list[tuple[int, bool, int]], start_hour: int,
) -> None:
    """Whatever the history, a session is credited 10 kWh at the latest setting that took
    effect at or before its start (or the first one), and nothing when that one was closed."""
    settings = [(f"2025-04-{1 + h // 24:02d} {h % 24:02d}:00", open_, ct)
                for h, open_, ct in changes]
    start = f"2025-04-{1 + start_hour // 24:02d} {start_hour % 24:02d}:00"
    ordered = sorted(enumerate(settings), key=lambda item: (local(item[1][0]), item[0]))
    in_force = ordered[0][1]
    for _, setting in ordered:
        if local(setting[0]) <= local(start):
            in_force = setting
    expected = [in_force[2] * 10] if in_force[1] and in_force[2] else []
    assert [c for c in _credited(_owner(*settings), start) if c] == expected
