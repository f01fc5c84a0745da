# ruff: noqa: S608  (SQL text is built from constant column lists only; values are bound)
"""Accounts, their users and API tokens (user tokens and site tokens)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..billing.errors import BillingError
from ..billing.lease import normalize_iban
from ..storage import Database, UniqueViolation, to_db
from .audit import AuditLog
from .errors import Conflict, Invalid
from .models import Account, AccountKind, Principal, Role, Site, User
from .rows import columns, one, page, record
from .security import check_password, hash_password, new_token, same_hash, token_hash

_ACCOUNT_COLS = columns(Account)
_USER_COLS = columns(User)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token as created: `secret` is shown once and never stored."""

    id: int
    secret: str
    kind: str  # user or site
    name: str
    expires_at: datetime | None


class Accounts:
    def __init__(self, db: Database) -> None:
        self._db = db

    # ---- accounts -----------------------------------------------------------------------------
    async def create_account(
        self,
        kind: AccountKind,
        name: str,
        *,
        now: datetime,
        email: str | None = None,
        address: str | None = None,
        iban: str | None = None,
        vat_number: str | None = None,
        actor: str = "system",
    ) -> Account:
        if iban is not None:
            try:  # the payout list pays to it: only a checked IBAN is stored (ISO 13616)
                iban = normalize_iban(iban)
            except BillingError as err:
                raise Invalid(str(err)) from err
        async with self._db.transaction() as tx:
            row = await tx.fetchrow(
                "INSERT INTO accounts (kind, name, email, address, iban, vat_number, created_at)"
                f" VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {_ACCOUNT_COLS}",
                kind.value,
                name,
                email,
                address,
                iban,
                vat_number,
                to_db(now),
            )
            assert row is not None
            await AuditLog.add(
                tx,
                at=now,
                actor=actor,
                account_id=row["id"],
                action="account.create",
                subject=f"account:{row['id']}",
            )
        return record(Account, row)

    async def get_account(self, account_id: int, scope: int | None = None) -> Account:
        return await one(self._db, Account, "accounts", account_id, scope, column="id")

    async def list_accounts(
        self, scope: int | None, *, limit: int = 50, after: int = 0
    ) -> list[Account]:
        return await page(
            self._db, Account, "accounts", scope, limit=limit, after=after, column="id"
        )

    # ---- users --------------------------------------------------------------------------------
    async def create_user(
        self,
        account_id: int,
        email: str,
        role: Role,
        *,
        now: datetime,
        name: str | None = None,
        password: str | None = None,
        actor: str = "system",
    ) -> User:
        await self.get_account(account_id)
        secret = hash_password(password) if password else None
        try:
            async with self._db.transaction() as tx:
                row = await tx.fetchrow(
                    "INSERT INTO users (account_id, email, name, role, password_hash, created_at)"
                    f" VALUES (?, ?, ?, ?, ?, ?) RETURNING {_USER_COLS}",
                    account_id,
                    email.strip().lower(),
                    name,
                    role.value,
                    secret,
                    to_db(now),
                )
                assert row is not None
                await AuditLog.add(
                    tx,
                    at=now,
                    actor=actor,
                    account_id=account_id,
                    action="user.create",
                    subject=f"user:{row['id']}",
                    detail={"role": role.value},
                )
        except UniqueViolation as err:
            raise Conflict(f"a user with e-mail {email!r} exists already") from err
        return record(User, row)

    async def get_user(self, user_id: int, scope: int | None = None) -> User:
        return await one(self._db, User, "users", user_id, scope)

    async def list_users(self, scope: int | None, *, limit: int = 50, after: int = 0) -> list[User]:
        return await page(self._db, User, "users", scope, limit=limit, after=after)

    async def find_user(self, email: str) -> User | None:
        row = await self._db.fetchrow(
            f"SELECT {_USER_COLS} FROM users WHERE email = ?", email.strip().lower()
        )
        return record(User, row) if row else None

    async def set_prepaid_balance(
        self, account_id: int, cents: int, *, now: datetime, actor: str
    ) -> None:
        """Record a prepaid balance (billing owns top-ups; this stores the result)."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE accounts SET prepaid_balance_cents = ? WHERE id = ?", cents, account_id
            )
            await AuditLog.add(
                tx,
                at=now,
                actor=actor,
                account_id=account_id,
                action="account.prepaid_balance",
                subject=f"account:{account_id}",
                detail={"cents": cents},
            )

    async def set_iban(
        self, account_id: int, text: str, scope: int | None = None, *, now: datetime, actor: str
    ) -> Account:
        """Store a checked IBAN (ISO 13616; Invalid otherwise): a lease driver's reimbursements
        are paid to it."""
        await self.get_account(account_id, scope)
        try:
            iban = normalize_iban(text)
        except BillingError as err:
            raise Invalid(str(err)) from err
        async with self._db.transaction() as tx:
            await tx.execute("UPDATE accounts SET iban = ? WHERE id = ?", iban, account_id)
            await AuditLog.add(
                tx,
                at=now,
                actor=actor,
                account_id=account_id,
                action="account.iban",
                subject=f"account:{account_id}",
                detail={"iban_end": iban[-4:]},
            )
        return await self.get_account(account_id)

    async def verify_password(self, email: str, password: str) -> User | None:
        """The user for a correct e-mail and password (for the portal's login), else None."""
        row = await self._db.fetchrow(
            f"SELECT {_USER_COLS}, password_hash FROM users WHERE email = ? AND disabled = 0",
            email.strip().lower(),
        )
        if row is None or not check_password(password, row.pop("password_hash")):
            return None
        return record(User, row)

    async def set_password(self, user_id: int, password: str) -> None:
        await self._db.execute(
            "UPDATE users SET password_hash = ? WHERE id = ?", hash_password(password), user_id
        )

    # ---- tokens -------------------------------------------------------------------------------
    async def create_user_token(
        self, user_id: int, name: str, *, now: datetime, expires_at: datetime | None = None
    ) -> IssuedToken:
        user = await self.get_user(user_id)
        return await self._issue("user", user.account_id, name, now, expires_at, user_id=user_id)

    async def create_site_token(
        self, site: Site, name: str, *, now: datetime, expires_at: datetime | None = None
    ) -> IssuedToken:
        return await self._issue("site", site.account_id, name, now, expires_at, site_id=site.id)

    async def _issue(
        self,
        kind: str,
        account_id: int,
        name: str,
        now: datetime,
        expires_at: datetime | None,
        *,
        user_id: int | None = None,
        site_id: int | None = None,
    ) -> IssuedToken:
        secret = new_token()
        async with self._db.transaction() as tx:
            token_id = await tx.fetchval(
                "INSERT INTO api_tokens (token_hash, prefix, kind, user_id, site_id, name,"
                " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                token_hash(secret),
                secret[:8],
                kind,
                user_id,
                site_id,
                name,
                to_db(now),
                to_db(expires_at),
            )
            await AuditLog.add(
                tx,
                at=now,
                actor="system",
                account_id=account_id,
                action="token.create",
                subject=f"token:{token_id}",
                detail={"kind": kind, "name": name},
            )
        return IssuedToken(int(token_id), secret, kind, name, expires_at)

    async def revoke_token(self, token_id: int, *, now: datetime) -> None:
        await self._db.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            to_db(now),
            token_id,
        )

    async def authenticate(self, secret: str, *, now: datetime) -> Principal | None:
        """The principal of a valid token; None for unknown, revoked, expired or disabled."""
        digest = token_hash(secret)
        row = await self._db.fetchrow(
            "SELECT t.id, t.token_hash, t.kind, t.user_id, t.site_id, t.expires_at,"
            " t.revoked_at, s.account_id AS site_account FROM api_tokens t"
            " LEFT JOIN sites s ON s.id = t.site_id WHERE t.token_hash = ?",
            digest,
        )
        # Looked up by hash, then compared in constant time as the issue asks.
        if row is None or not same_hash(row["token_hash"], digest) or row["revoked_at"]:
            return None
        if row["expires_at"] is not None and row["expires_at"] <= to_db(now):
            return None
        if row["kind"] == "site":
            return Principal(int(row["id"]), int(row["site_account"]), site_id=int(row["site_id"]))
        user = await self.get_user(int(row["user_id"]))
        if user.disabled:
            return None
        return Principal(int(row["id"]), user.account_id, user=user)
