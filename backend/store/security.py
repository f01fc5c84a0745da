"""Secrets: API tokens (random, stored as SHA-256) and passwords (scrypt)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "efx_"  # noqa: S105 (a prefix, not a secret)
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # A token has 256 random bits: a plain SHA-256 is enough (no dictionary to guess from).
    return hashlib.sha256(token.encode()).hexdigest()


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


# Checked against when there is no hash (unknown e-mail, no password set yet): the same scrypt
# work is done, so the answer's timing does not tell which e-mails have an account.
_NO_HASH = "scrypt$" + "00" * 16 + "$" + "00" * 64


def check_password(password: str, stored: str | None) -> bool:
    parts = stored.split("$") if stored else []
    usable = len(parts) == 3 and parts[0] == "scrypt"
    _, salt_hex, digest_hex = parts if usable else _NO_HASH.split("$")
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex) and usable
