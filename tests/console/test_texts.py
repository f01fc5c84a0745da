"""The console's English and Dutch texts: the same keys in both, every key a template names
literally exists, and the browser's Accept-Language chooses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from custom_components.eflux.core.runner.console import i18n

TEMPLATES = Path(i18n.__file__).resolve().parent / "templates"
# t("key") with a literal key; keys built at run time ("status_" + ...) are checked by the
# browser tests that render them.
LITERAL = re.compile(r"""\bt\(\s*["']([a-z0-9_]+)["']\s*[,)]""")


def test_both_languages_have_the_same_keys() -> None:
    assert set(i18n.texts("en")) == set(i18n.texts("nl"))


def test_every_literal_key_in_the_templates_exists() -> None:
    used = {key for path in TEMPLATES.glob("*.html") for key in LITERAL.findall(path.read_text())}
    assert used  # the pattern finds them
    assert used - set(i18n.texts("en")) == set()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("nl-NL,nl;q=0.9,en;q=0.8", "nl"),
        ("en-GB,en;q=0.9,nl;q=0.8", "en"),
        ("de-DE,nl;q=0.5,en;q=0.4", "nl"),
        ("fr-FR", "en"),
        ("", "en"),
        ("en;q=0.1,nl;q=0.9", "nl"),
        ("nl;q=abc", "en"),
        (";;;,,,q=", "en"),
    ],
)
def test_accept_language_chooses(header: str, expected: str) -> None:
    assert i18n.accepted(header) == expected
