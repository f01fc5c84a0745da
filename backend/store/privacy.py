"""GDPR: export everything we hold about an account; erase its personal data.

Erasure blanks names, e-mail, address and IBAN, disables its users, revokes their tokens and
blocks its cards; invoices keep their own copy of the legally required customer fields
(name, address, VAT number: art. 35a Wet OB, kept 7 years), so they are not touched.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from ..storage import Database, to_db
from .accounts import Accounts
from .audit import AuditLog
from .cards import Cards
from .errors import Conflict
from .models import CardStatus
from .sessions import Sessions

ERASED = "(erased)"


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    return value


class Privacy:
    def __init__(self, db: Database, accounts: Accounts, cards: Cards, sessions: Sessions) -> None:
        self._db = db
        self._accounts = accounts
        self._cards = cards
        self._sessions = sessions

    async def export(self, account_id: int, scope: int | None = None) -> dict[str, Any]:
        """All personal data of an account as plain values (the API serialises it)."""
        account = await self._accounts.get_account(account_id, scope)
        big = 1_000_000
        return {
            "account": _plain(account),
            "users": [_plain(u) for u in await self._accounts.list_users(account.id, limit=big)],
            "cards": [_plain(c) for c in await self._cards.list_cards(account.id, limit=big)],
            "sessions": [
                _plain(s) for s in await self._sessions.list_sessions(account.id, limit=big)
            ],
            "invoices": await self._db.fetch(
                "SELECT number, month, gross_cents, customer_name FROM invoices"
                " WHERE account_id = ? ORDER BY id",
                account.id,
            ),
        }

    async def erase(self, account_id: int, scope: int | None, *, now: datetime, actor: str) -> None:
        account = await self._accounts.get_account(account_id, scope)
        if account.erased_at is not None:
            raise Conflict(f"account {account_id} was erased already")
        stamp = to_db(now)
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE accounts SET name = ?, email = NULL, address = NULL, iban = NULL,"
                " erased_at = ? WHERE id = ?",
                ERASED,
                stamp,
                account.id,
            )
            await tx.execute(
                "UPDATE users SET email = ?, name = NULL, password_hash = NULL, disabled = 1"
                " WHERE account_id = ?",
                f"erased-{account.id}-",
                account.id,
            )
            # Unique e-mails: give each erased user its own placeholder.
            await tx.execute(
                "UPDATE users SET email = email || CAST(id AS TEXT) WHERE account_id = ?",
                account.id,
            )
            await tx.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND (user_id IN"
                " (SELECT id FROM users WHERE account_id = ?) OR site_id IN"
                " (SELECT id FROM sites WHERE account_id = ?))",
                stamp,
                account.id,
                account.id,
            )
            await tx.execute("UPDATE sessions SET id_tag = NULL WHERE account_id = ?", account.id)
            await AuditLog.add(
                tx,
                at=now,
                actor=actor,
                account_id=account.id,
                action="account.erase",
                subject=f"account:{account.id}",
            )
        for card in await self._cards.list_cards(account.id, limit=1_000_000):
            if card.status is CardStatus.ACTIVE:
                await self._cards.set_status(
                    card.id, None, CardStatus.BLOCKED, now=now, actor=actor
                )
