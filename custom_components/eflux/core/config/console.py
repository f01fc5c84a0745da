"""site.yaml `console:` and the people on the card list (the building manager's console).

console:
  enabled: true                    # default
  password: "scrypt$16384$8$1$<salt>$<hash>"   # the manager's; or in the side file below
  password_file: console-password  # default, next to site.yaml (eflux-local --set-password)
  session_hours: 12
  secure_cookies: false            # true behind a reverse proxy with TLS

central.cards entries may name a resident, an apartment and a resident's own login:
    - {id: 04A2B3C4, resident: "A. de Vries", apartment: "2B",
       console_password: "scrypt$..."}      # eflux-local --hash-password prints one

Only hashes are ever kept (hashlib.scrypt with a salt, runner/console/hashing.py); a plain
password in the file is refused, so it cannot be left there by mistake.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import ConfigError
from .reader import Section

# scrypt$N$r$p$salt(hex)$hash(hex): what runner/console/hashing.py writes.
HASH_PATTERN = re.compile(
    r"^scrypt\$\d{4,7}\$\d{1,2}\$\d{1,2}\$[0-9a-f]{32,128}\$[0-9a-f]{64,128}$"
)
DEFAULT_PASSWORD_FILE = "console-password"  # noqa: S105 (a file name)
PERSON_KEYS = ("resident", "apartment", "console_password")


@dataclass(frozen=True, slots=True)
class Resident:
    """Who a card belongs to (the report's statement per resident) and their own login."""

    card: str
    name: str | None = None
    apartment: str | None = None
    password_hash: str | None = None


@dataclass(frozen=True, slots=True)
class ConsoleSettings:
    enabled: bool = True
    password_hash: str | None = None  # the manager's
    password_file: Path | None = None  # where --set-password writes it
    session_hours: float = 12.0
    # Secure cookies also over plain HTTP: behind a reverse proxy that terminates TLS, the
    # runner sees HTTP and would not mark them itself.
    secure_cookies: bool = False
    residents: Mapping[str, Resident] = field(default_factory=lambda: MappingProxyType({}))


def parse_console(top: Section, base_dir: Path, *, served: bool = True) -> ConsoleSettings:
    """`served`: the API (and so the console) runs; without it the side file is not read
    (Home Assistant builds its site without the API, from no file)."""
    sec = top.section("console")
    side = base_dir / sec.text("password_file", DEFAULT_PASSWORD_FILE)
    password = sec.text("password", None)
    if password is None and served and side.is_file():
        password = side.read_text(encoding="utf-8").strip() or None
        where = str(side)
    else:
        where = sec.path("password")
    if password is not None and not HASH_PATTERN.match(password):
        raise ConfigError(where, "must be a hash from `eflux-local --set-password`, not a password")
    settings = ConsoleSettings(
        enabled=sec.flag("enabled", True),
        password_hash=password,
        password_file=side,
        session_hours=sec.number("session_hours", 12.0, low=0.1, high=24 * 30),
        secure_cookies=sec.flag("secure_cookies", False),
        residents=MappingProxyType(_residents(top)),
    )
    sec.done()
    return settings


def _residents(top: Section) -> dict[str, Resident]:
    """The people of `central.cards` entries (the entries themselves are parsed in cards.py,
    which reads these keys only so as not to refuse them)."""
    central = top.data.get("central") or {}
    items = central.get("cards") if isinstance(central, Mapping) else None
    found: dict[str, Resident] = {}
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, Mapping) or not any(k in item for k in PERSON_KEYS):
            continue
        key = f"central.cards[{index}]"
        uid = str(item.get("id", "")).strip()
        found[uid] = Resident(
            card=uid,
            name=_text(item, "resident", key),
            apartment=_text(item, "apartment", key),
            password_hash=_hash(item, key),
        )
    return found


def _text(item: Mapping[str, Any], name: str, key: str) -> str | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(f"{key}.{name}", "must be text")
    text = str(value).strip()
    if not text or len(text) > 100:
        raise ConfigError(f"{key}.{name}", "1 to 100 characters")
    return text


def _hash(item: Mapping[str, Any], key: str) -> str | None:
    value = _text_or_none(item.get("console_password"))
    if value is not None and not HASH_PATTERN.match(value):
        raise ConfigError(
            f"{key}.console_password",
            "must be a hash from `eflux-local --hash-password`, not a password",
        )
    return value


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value).strip()


def console_refusal(settings: ConsoleSettings, api_loopback: bool, host: str) -> str | None:
    """Why the site must not start: a console reachable from the network without a password."""
    if settings.enabled and not api_loopback and settings.password_hash is None:
        return (
            f"the console would listen on {host} without a password: run "
            "`eflux-local --config site.yaml --set-password` (or set console.enabled: false)"
        )
    return None
