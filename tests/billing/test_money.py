"""Money: integer cents, VAT 21 % both ways, one rounding rule, floats refused."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.billing.errors import BillingError
from backend.billing.money import Price, VatRate, VatSplit, eur, format_eur, round_half_up


@pytest.mark.parametrize(
    ("gross", "net", "vat"),
    [
        (750, 620, 130),  # €7.50 switch fee / lost card: 7.50 x 21/121 = 1.3016 → 1.30
        (625, 517, 108),  # €6.25 idle fee: 1.0847 → 1.08
        (4500, 3719, 781),  # €45 transfer: 7.8099 → 7.81
        (1500, 1240, 260),  # €15 prepaid admin: 2.6033 → 2.60
        (1250, 1033, 217),
        (1, 1, 0),
        (0, 0, 0),
        (-750, -620, -130),  # a credit mirrors the charge
    ],
)
def test_split_of_gross_prices(gross: int, net: int, vat: int) -> None:
    assert VatSplit.from_gross(gross) == VatSplit(net, vat, gross)


@pytest.mark.parametrize(
    ("net", "vat", "gross"),
    [(4000, 840, 4840), (150, 32, 182), (1, 0, 1), (3, 1, 4), (-4000, -840, -4840)],
)
def test_split_of_net_prices(net: int, vat: int, gross: int) -> None:
    # €40 excl. VAT misuse minimum → €48.40; €1.50/MB → 0.315 rounds half up to 0.32.
    assert VatSplit.from_net(net) == VatSplit(net, vat, gross)


def test_out_of_scope_has_no_vat() -> None:
    assert VatSplit.from_net(4000, VatRate.OUT_OF_SCOPE) == VatSplit(
        4000, 0, 4000, VatRate.OUT_OF_SCOPE
    )


@pytest.mark.parametrize(
    ("value", "cents"),
    [
        (Fraction(1, 2), 1),
        (Fraction(-1, 2), -1),
        (Fraction(3, 2), 2),
        (Fraction(249, 100), 2),
        (Decimal("666.6666"), 667),
        (Decimal("-0.4999"), 0),
        (7, 7),
    ],
)
def test_round_half_up_away_from_zero(value: Fraction | Decimal | int, cents: int) -> None:
    assert round_half_up(value) == cents


@pytest.mark.parametrize("bad", [7.5, True, "7.50", None])
def test_floats_and_other_types_are_refused(bad: object) -> None:
    with pytest.raises(BillingError, match="integer euro cents"):
        Price.gross(bad)  # type: ignore[arg-type]
    with pytest.raises(BillingError):
        round_half_up(bad)  # type: ignore[arg-type]


def test_inconsistent_split_is_refused() -> None:
    with pytest.raises(BillingError, match="!= gross"):
        VatSplit(100, 21, 120)


@pytest.mark.parametrize(
    ("text", "cents"), [("7.50", 750), ("7,5", 750), ("0.01", 1), ("-45", -4500), (" 12 ", 1200)]
)
def test_eur_parses_two_decimals(text: str, cents: int) -> None:
    assert eur(text) == cents


@pytest.mark.parametrize("text", ["7.505", "1e3", "", "€5", "NaN", "7.50.1"])
def test_eur_refuses_anything_else(text: str) -> None:
    with pytest.raises(BillingError, match="not a euro amount"):
        eur(text)


@pytest.mark.parametrize(
    ("cents", "text"), [(123456, "€ 1.234,56"), (-750, "-€ 7,50"), (5, "€ 0,05"), (0, "€ 0,00")]
)
def test_format_eur_is_dutch(cents: int, text: str) -> None:
    assert format_eur(cents) == text


amounts = st.integers(min_value=-(10**9), max_value=10**9)


@given(amounts)
def test_vat_split_from_gross_is_consistent(gross: int) -> None:
    split = VatSplit.from_gross(gross)
    assert split.net + split.vat == split.gross == gross
    # VAT is 21/121 of gross within half a cent, and so within 0.605 ct of 21 % of net.
    assert abs(Fraction(split.vat) - Fraction(gross * 21, 121)) <= Fraction(1, 2)
    assert abs(Fraction(split.vat) - Fraction(split.net * 21, 100)) <= Fraction(605, 1000)
    assert VatSplit.from_gross(-gross) == -split


@given(amounts)
def test_vat_split_from_net_is_consistent(net: int) -> None:
    split = VatSplit.from_net(net)
    assert split.net == net
    assert split.net + split.vat == split.gross
    assert abs(Fraction(split.vat) - Fraction(net * 21, 100)) <= Fraction(1, 2)
    # A net price round-trips through its gross to the same net.
    assert VatSplit.from_gross(split.gross).net == net


@given(amounts, st.fractions(min_value=0, max_value=1))
def test_scaling_rounds_once_on_the_stated_basis(cents: int, factor: Fraction) -> None:
    scaled = Price.gross(cents).times(factor)
    assert abs(Fraction(scaled.cents) - cents * factor) <= Fraction(1, 2)
    assert Price.gross(-cents).times(factor).cents == -scaled.cents
