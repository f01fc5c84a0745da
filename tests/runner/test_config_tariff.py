"""site.yaml `timezone:` and `tariff:`: parsed into Decimal prices, mistakes named by key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.eflux.core.config import ConfigError, load_site_config
from custom_components.eflux.core.planning.tariff import TariffZone

from .test_config import GOOD, write

TARIFF_YAML = """
timezone: Europe/Amsterdam
tariff:
  price: 0.30
  zones:
    - hours: 23-7
      price: "0.21"
    - days: sat,sun
      price: 0.24
    - days: [mon-fri]
      hours: " 12 - 14 "
      price: -0.02
"""


def site_yaml(tmp_path: Path, extra: str) -> Path:
    import yaml

    return write(tmp_path, yaml.safe_dump(GOOD) + extra)


def test_a_tariff_with_zones_in_local_time(tmp_path: Path) -> None:
    config = load_site_config(site_yaml(tmp_path, TARIFF_YAML))
    tariff = config.controller.tariff
    assert tariff is not None
    assert config.timezone == "Europe/Amsterdam"
    assert tariff.timezone == ZoneInfo("Europe/Amsterdam")
    assert tariff.price == Decimal("0.30")  # from the YAML text, never through a float
    assert tariff.zones == (
        TariffZone(Decimal("0.21"), hours=(23, 7)),
        TariffZone(Decimal("0.24"), days=frozenset({5, 6})),
        TariffZone(Decimal("-0.02"), hours=(12, 14), days=frozenset(range(5))),
    )


def test_a_fixed_price_needs_no_timezone_and_no_tariff_is_none(tmp_path: Path) -> None:
    config = load_site_config(site_yaml(tmp_path, "tariff: {price: 0.1}\n"))
    assert config.controller.tariff is not None
    assert config.controller.tariff.price == Decimal("0.1")
    assert load_site_config(site_yaml(tmp_path, "tariff: {}\n")).controller.tariff is None


def test_days_ranges_wrap_and_take_full_names(tmp_path: Path) -> None:
    extra = "timezone: UTC\ntariff:\n  zones: [{days: 'Fri-Mon, wednesday', price: 1}]\n"
    tariff = load_site_config(site_yaml(tmp_path, extra)).controller.tariff
    assert tariff is not None
    assert tariff.zones[0].days == frozenset({4, 5, 6, 0, 2})
    assert tariff.zones[0].hours is None


@pytest.mark.parametrize(
    ("extra", "key", "reason"),
    [
        ("tariff: {zones: [{hours: 23-7, price: 1}]}", "timezone", "required for tariff zones"),
        ("timezone: Mars/Olympus\ntariff: {price: 1}", "timezone", "unknown time zone"),
        ("timezone: ../../etc/passwd", "timezone", "unknown time zone"),
        ("tariff: {price: .nan}", "tariff.price", "finite"),
        ("tariff: {price: 'NaN'}", "tariff.price", "finite"),
        ("tariff: {price: cheap}", "tariff.price", "must be a number"),
        ("tariff: {price: true}", "tariff.price", "must be a number"),
        ("tariff: {price: [1]}", "tariff.price", "must be a number"),
        ("tariff: {price: 1, currency: EUR}", "tariff.currency", "unknown setting"),
        ("tariff: [1]", "tariff", "must be a mapping"),
        ("timezone: UTC\ntariff: {zones: [{hours: 23-7}]}", "tariff.zones[0].price", "required"),
        ("timezone: UTC\ntariff: {zones: [{price: 1}]}", "tariff.zones[0]", "needs hours"),
        (
            "timezone: UTC\ntariff: {zones: [{hours: 7, price: 1}]}",
            "tariff.zones[0].hours",
            "like 23-7",
        ),
        (
            "timezone: UTC\ntariff: {zones: [{hours: '23:30-7', price: 1}]}",
            "tariff.zones[0].hours",
            "whole hours",
        ),
        (
            "timezone: UTC\ntariff: {zones: [{hours: 22-25, price: 1}]}",
            "tariff.zones[0].hours",
            "0 to 24",
        ),
        (
            "timezone: UTC\ntariff: {zones: [{hours: 24-3, price: 1}]}",
            "tariff.zones[0].hours",
            "0 to 24",
        ),
        (
            "timezone: UTC\ntariff: {zones: [{hours: 7-7, price: 1}]}",
            "tariff.zones[0].hours",
            "empty",
        ),
        (
            "timezone: UTC\ntariff: {zones: [{days: 'sat,zon', price: 1}]}",
            "tariff.zones[0].days",
            "unknown day 'zon'",
        ),
        (
            "timezone: UTC\ntariff: {zones: [{days: [], price: 1}]}",
            "tariff.zones[0].days",
            "at least one",
        ),
        (
            "timezone: UTC\ntariff: {zones: [{days: sat, price: 1, hour: 3}]}",
            "tariff.zones[0].hour",
            "unknown setting",
        ),
        ("timezone: UTC\ntariff: {zones: {hours: 1-2}}", "tariff.zones", "must be a list"),
    ],
)
def test_tariff_mistakes_name_file_key_and_reason(
    tmp_path: Path, extra: str, key: str, reason: str
) -> None:
    path = site_yaml(tmp_path, extra + "\n")
    with pytest.raises(ConfigError) as err:
        load_site_config(path)
    assert (err.value.file, err.value.key) == (str(path), key)
    assert reason in err.value.reason


def test_the_documented_example_parses(tmp_path: Path) -> None:
    """The example under "### `timezone`, `tariff`" in docs/configuration.md is valid."""
    doc = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    section = doc.split("### `timezone`, `tariff`", 1)[1]
    block: Any = section.split("```yaml", 1)[1].split("```", 1)[0]
    tariff = load_site_config(site_yaml(tmp_path, block)).controller.tariff
    assert tariff is not None
    assert tariff.zones
