"""Charger passwords (OCPP security profiles 1 and 2: HTTP basic auth at the handshake).

Where a charge point's password comes from:
- the configuration (site.yaml `central.passwords`, the HA options), in plain text there;
- a rotation from the central system (ChangeConfiguration AuthorizationKey / SetVariables
  SecurityCtrlr.BasicAuthPassword): the new password is stored *before* it is sent, and the
  old one stays accepted until the charger connects with the new one (it may miss the
  message, or reconnect only later). Rotated passwords are random (`generate_password`), so
  the database keeps a salted SHA-256 of them, never the text.
A rotation is tied to the configured password it replaced: when the user sets another one in
the configuration later, the configuration wins again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from .store import Store
from .timeutil import from_db, to_db

# OCPP passwordString: 16 to 40 characters (1.6 security whitepaper ed. 2, 2.0.1 A00).
MIN_PASSWORD, MAX_PASSWORD = 16, 40
GENERATED_LENGTH = 32  # 32 of 62 symbols: ~190 bits
_ALPHABET = string.ascii_letters + string.digits


def generate_password(length: int = GENERATED_LENGTH) -> str:
    """A strong charger password (letters and digits only: every charger's UI takes them)."""
    if not MIN_PASSWORD <= length <= MAX_PASSWORD:
        raise ValueError(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def password_problem(password: str) -> str | None:
    """Why `password` cannot be a charger's password, or None."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return f"must have {MIN_PASSWORD} to {MAX_PASSWORD} characters, has {len(password)}"
    if not password.isprintable() or not password.isascii() or " " in password:
        return "must be printable ASCII without spaces"
    return None


def _digest(salt: str, password: str) -> str:
    return hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()


def fingerprint(password: str | None) -> str:
    """What a rotation remembers of the configured password it replaced (unsalted: it only
    has to tell "still the same" from "changed since")."""
    return "" if password is None else _digest("config", password)


@dataclass(frozen=True, slots=True)
class Secret:
    salt: str
    digest: str

    @classmethod
    def of(cls, password: str) -> Secret:
        salt = secrets.token_hex(8)
        return cls(salt, _digest(salt, password))

    def matches(self, password: str) -> bool:
        return hmac.compare_digest(self.digest, _digest(self.salt, password))


# A rotation's `previous` when the charger had no password before (it may still connect without
# one until it has used the new one).
NO_PASSWORD = Secret("", "")


@dataclass(frozen=True, slots=True)
class Rotation:
    """A password set by the central system; `previous` stays valid until `current` is used."""

    current: Secret
    previous: Secret | None
    replaced_config: str  # fingerprint of the configured password at the time
    rotated_at: datetime


class Credentials:
    def __init__(
        self, passwords: Mapping[str, str], store: Store, clock: Callable[[], datetime]
    ) -> None:
        self._configured = dict(passwords)
        self._store = store
        self._clock = clock
        self._rotations: dict[str, Rotation] = {}

    async def load(self) -> None:
        async def work(db: aiosqlite.Connection) -> dict[str, Rotation]:
            async with db.execute(
                "SELECT charge_point_id, salt, digest, previous_salt, previous_digest,"
                " replaced_config, rotated_at FROM charger_passwords"
            ) as cursor:
                rows = await cursor.fetchall()
            found = {}
            for cp_id, salt, digest, p_salt, p_digest, replaced, at in rows:
                moment = from_db(at)
                assert moment is not None
                previous = Secret(p_salt, p_digest) if p_salt is not None else None
                found[cp_id] = Rotation(Secret(salt, digest), previous, replaced, moment)
            return found

        self._rotations = await self._store.read(work)

    def _rotation(self, cp_id: str) -> Rotation | None:
        rotation = self._rotations.get(cp_id)
        if rotation is None or rotation.replaced_config != fingerprint(self._configured.get(cp_id)):
            return None  # none, or the configuration set a password of its own since
        return rotation

    def has_password(self, cp_id: str) -> bool:
        return self._rotation(cp_id) is not None or cp_id in self._configured

    def check(self, cp_id: str, password: str | None) -> str | None:
        """How `password` (None: none given) authenticates `cp_id`: "current", "previous" (a
        rotation's old password, or none before the first one), "open" (no password is set
        for it), or None (refused)."""
        rotation = self._rotation(cp_id)
        if rotation is None:
            expected = self._configured.get(cp_id)
            if expected is None:
                return "open"
            ok = password is not None and hmac.compare_digest(password.encode(), expected.encode())
            return "current" if ok else None
        if password is None:
            return "previous" if rotation.previous == NO_PASSWORD else None
        if rotation.current.matches(password):
            return "current"
        previous = rotation.previous
        if previous is not None and previous != NO_PASSWORD and previous.matches(password):
            return "previous"
        return None

    async def rotate(self, cp_id: str, password: str) -> Rotation | None:
        """Store `password` as the new one (the old stays valid); returns what was there
        before, for `revert` when the charger refuses."""
        before = self._rotation(cp_id)
        if before is not None:
            previous: Secret | None = before.current
        else:
            configured = self._configured.get(cp_id)
            previous = Secret.of(configured) if configured is not None else NO_PASSWORD
        rotation = Rotation(
            Secret.of(password), previous, fingerprint(self._configured.get(cp_id)), self._clock()
        )
        await self._save(cp_id, rotation)
        return before

    async def confirm(self, cp_id: str) -> None:
        """The charger connected with its current password: the previous one is void."""
        rotation = self._rotation(cp_id)
        if rotation is not None and rotation.previous is not None:
            await self._save(
                cp_id,
                Rotation(rotation.current, None, rotation.replaced_config, rotation.rotated_at),
            )

    async def revert(self, cp_id: str, before: Rotation | None) -> None:
        """The charger refused the new password: back to what it had."""
        if before is not None:
            await self._save(cp_id, before)
            return

        async def work(db: aiosqlite.Connection) -> None:
            await db.execute("DELETE FROM charger_passwords WHERE charge_point_id = ?", (cp_id,))

        await self._store.write(work)
        self._rotations.pop(cp_id, None)

    async def _save(self, cp_id: str, rotation: Rotation) -> None:
        previous = rotation.previous

        async def work(db: aiosqlite.Connection) -> None:
            await db.execute(
                "INSERT OR REPLACE INTO charger_passwords (charge_point_id, salt, digest,"
                " previous_salt, previous_digest, replaced_config, rotated_at)"
                " VALUES (?,?,?,?,?,?,?)",
                (
                    cp_id,
                    rotation.current.salt,
                    rotation.current.digest,
                    previous.salt if previous is not None else None,
                    previous.digest if previous is not None else None,
                    rotation.replaced_config,
                    to_db(rotation.rotated_at),
                ),
            )

        await self._store.write(work)
        self._rotations[cp_id] = rotation
