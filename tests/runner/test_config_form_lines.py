"""The one-line forms the HA options take for site.yaml lists (core/config): tariff zones and
flexibility discounts — read into site.yaml's items, written back, and refused with the key."""

from __future__ import annotations

import pytest

from custom_components.eflux.core.config import ConfigError
from custom_components.eflux.core.config.flexibility import discounts_as_text, discounts_from_text
from custom_components.eflux.core.config.tariff import zones_as_text, zones_from_text


def test_zones_are_read_and_written_back() -> None:
    zones = zones_from_text(" mon-fri 17-21: 0.40; sat, sun 10-16:0.18 ;; 23-7: 0.2; wed: 0.1")
    assert zones == [
        {"days": "mon-fri", "hours": "17-21", "price": "0.40"},
        {"days": "sat,sun", "hours": "10-16", "price": "0.18"},
        {"hours": "23-7", "price": "0.2"},
        {"days": "wed", "price": "0.1"},
    ]
    assert zones_from_text(zones_as_text(zones)) == zones
    assert zones_from_text("  ") == []


@pytest.mark.parametrize(
    ("text", "index"),
    [("17-21 0.40", 0), ("mon: 0.1; 17-21 8-9: 0.4", 1), (": 0.3", 0), ("mon-fri 7-9:", 0)],
)
def test_a_zone_it_cannot_read_names_its_place(text: str, index: int) -> None:
    with pytest.raises(ConfigError) as caught:
        zones_from_text(text)
    assert caught.value.key == f"tariff.zones[{index}]"
    assert "a colon and a price" in caught.value.reason


def test_discounts_are_read_and_written_back() -> None:
    steps = discounts_from_text("4h: 10, 1h30m: 5%, ")
    assert steps == [{"min_stay": "4h", "percent": "10"}, {"min_stay": "1h30m", "percent": "5"}]
    assert discounts_from_text(discounts_as_text(steps)) == steps
    with pytest.raises(ConfigError) as caught:
        discounts_from_text("4h: 10, 8h")
    assert caught.value.key == "flexibility.discounts[1]"
