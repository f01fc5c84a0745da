"""site.yaml `chargers[].flexibility`: a per-charge-point flexibility price in Decimal, every
mistake refused with the file, the key as written and the reason."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from custom_components.eflux.core.config import ConfigError, load_site_config
from custom_components.eflux.core.planning import FlexDiscount, FlexibilityTariff

from .test_config import GOOD, changed, write

FLEX: dict[str, Any] = {
    "price_per_kwh": "0.30",
    "price_per_hour": 0.5,
    "discounts": [
        {"min_stay": "8h", "percent": 25},
        {"min_stay": 240, "percent": "10"},
        {"min_stay": "1h30m", "percent": 5.5},
    ],
}


def with_flex(flex: Any, charger: int = 1) -> dict[str, Any]:
    return changed(f"chargers.{charger}.flexibility", flex)


def test_a_flexibility_price_per_charger_in_decimal(tmp_path: Path) -> None:
    config = load_site_config(write(tmp_path, with_flex(FLEX)))
    assert config.controller.flexibility == {
        "right": FlexibilityTariff(
            price_per_kwh=Decimal("0.30"),
            price_per_hour=Decimal("0.5"),  # from the YAML text, never through a float
            discounts=(
                FlexDiscount(timedelta(hours=8), Decimal(25)),
                FlexDiscount(timedelta(hours=4), Decimal(10)),
                FlexDiscount(timedelta(minutes=90), Decimal("5.5")),
            ),
        )
    }


def test_without_the_block_there_is_no_price_and_per_hour_defaults_to_zero(
    tmp_path: Path,
) -> None:
    assert load_site_config(write(tmp_path, GOOD)).controller.flexibility == {}
    config = load_site_config(write(tmp_path, with_flex({"price_per_kwh": 0.25}, 0)))
    assert config.controller.flexibility == {"left": FlexibilityTariff(Decimal("0.25"))}


@pytest.mark.parametrize(
    ("text", "stay"),
    [
        ("4h", timedelta(hours=4)),
        ("90min", timedelta(minutes=90)),
        ("45 m", timedelta(minutes=45)),
        ("1.5h", timedelta(minutes=90)),
        ("2H 15m", timedelta(hours=2, minutes=15)),
        (0, timedelta(0)),
    ],
)
def test_stays_as_durations_or_minutes(tmp_path: Path, text: Any, stay: timedelta) -> None:
    flex = {"price_per_kwh": 1, "discounts": [{"min_stay": text, "percent": 1}]}
    tariff = load_site_config(write(tmp_path, with_flex(flex))).controller.flexibility["right"]
    assert tariff.discounts[0].min_stay == stay


KEY = "chargers[right].flexibility"


@pytest.mark.parametrize(
    ("flex", "key", "reason"),
    [
        ({"price_per_hour": 1}, f"{KEY}.price_per_kwh", "is required"),
        ({"price_per_kwh": "cheap"}, f"{KEY}.price_per_kwh", "must be a number (per kWh)"),
        ({"price_per_kwh": float("nan")}, f"{KEY}.price_per_kwh", "finite"),
        ({"price_per_kwh": -0.1}, f"{KEY}.price_per_kwh", "≥ 0, got -0.1"),
        (
            {"price_per_kwh": 1, "price_per_hour": [1]},
            f"{KEY}.price_per_hour",
            "must be a number (per hour)",
        ),
        ({"price_per_kwh": 1, "price_per_hour": -2}, f"{KEY}.price_per_hour", "≥ 0"),
        ({"price_per_kwh": 1, "currency": "EUR"}, f"{KEY}.currency", "unknown setting"),
        ({"price_per_kwh": 1, "discounts": {"4h": 10}}, f"{KEY}.discounts", "must be a list"),
        (
            {"price_per_kwh": 1, "discounts": [{"min_stay": "4h"}]},
            f"{KEY}.discounts[0].percent",
            "is required",
        ),
        (
            {"price_per_kwh": 1, "discounts": [{"min_stay": "soon", "percent": 5}]},
            f"{KEY}.discounts[0].min_stay",
            "like 4h or 90min",
        ),
        (
            {"price_per_kwh": 1, "discounts": [{"min_stay": -60, "percent": 5}]},
            f"{KEY}.discounts[0].min_stay",
            "negative",
        ),
        (
            {"price_per_kwh": 1, "discounts": [{"min_stay": True, "percent": 5}]},
            f"{KEY}.discounts[0].min_stay",
            "like 4h",
        ),
        (
            {"price_per_kwh": 1, "discounts": [{"min_stay": "800h", "percent": 5}]},
            f"{KEY}.discounts[0].min_stay",
            "at most 31 days",
        ),
        (
            {"price_per_kwh": 1, "discounts": [{"min_stay": "4h", "percent": 120}]},
            f"{KEY}.discounts[0].percent",
            "0..100, got 120",
        ),
        (
            {"price_per_kwh": 1, "discounts": [{"min_stay": "4h", "percent": "lots"}]},
            f"{KEY}.discounts[0].percent",
            "must be a number (percent)",
        ),
        (
            {"price_per_kwh": 1, "discounts": [{"min_stay": "4h", "percent": 5, "max": 1}]},
            f"{KEY}.discounts[0].max",
            "unknown setting",
        ),
        # The longer stay is written first: the step at fault is named as written.
        (
            {
                "price_per_kwh": 1,
                "discounts": [{"min_stay": "8h", "percent": 5}, {"min_stay": "2h", "percent": 20}],
            },
            f"{KEY}.discounts[0].percent",
            "a longer stay may never cost more",
        ),
        (
            {
                "price_per_kwh": 1,
                "discounts": [
                    {"min_stay": "2h", "percent": 5},
                    {"min_stay": 120, "percent": 10},
                ],
            },
            f"{KEY}.discounts",
            "same min_stay",
        ),
        ("cheap", KEY, "must be a mapping"),
    ],
)
def test_mistakes_name_the_file_the_key_and_the_reason(
    tmp_path: Path, flex: Any, key: str, reason: str
) -> None:
    path = write(tmp_path, with_flex(flex))
    with pytest.raises(ConfigError) as caught:
        load_site_config(path)
    assert caught.value.file == str(path)
    assert caught.value.key == key
    assert reason in caught.value.reason


def test_the_documented_examples_parse(tmp_path: Path) -> None:
    """The complete example of docs/configuration.md and the snippet of docs/load-balancing.md."""
    docs = Path(__file__).parents[2] / "docs"
    example = (docs / "configuration.md").read_text().split("## A complete example", 1)[1]
    path = write(tmp_path, example.split("```yaml", 1)[1].split("```", 1)[0])
    tariff = load_site_config(path).controller.flexibility["garage"]
    assert tariff.discounts[1] == FlexDiscount(timedelta(hours=8), Decimal(25))
    section = (docs / "load-balancing.md").read_text().split("## Flexibility discount", 1)[1]
    snippet = yaml.safe_load(section.split("```yaml", 1)[1].split("```", 1)[0])
    data = changed("chargers.1.flexibility", snippet["chargers"][0]["flexibility"])
    tariff = load_site_config(write(tmp_path, data)).controller.flexibility["right"]
    assert (tariff.price_per_kwh, tariff.price_per_hour) == (Decimal("0.30"), Decimal("0.50"))
