"""The OCPI parties we exchange credentials with (table ocpi_parties, migration 0110)."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..storage import Database, Queries, Row, to_db


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """256 random bits; URL-safe text, so it survives any header or JSON unchanged."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Party:
    id: int
    name: str
    status: str
    outgoing_token: str | None
    versions_url: str | None
    roles: list[dict[str, Any]]
    endpoints: dict[str, str]
    tokens_pushed_version: int

    def endpoint(self, module: str, role: str) -> str | None:
        return self.endpoints.get(f"{module}/{role}")

    def plays(self, role: str) -> bool:
        return any(r.get("role") == role for r in self.roles)

    def identities(self) -> set[tuple[str, str]]:
        """(country code, party id) of each role: what their objects may carry."""
        return {(str(r.get("country_code")), str(r.get("party_id"))) for r in self.roles}

    @property
    def label(self) -> str:
        """`CC*PID` of the first role: the roaming operator of the sessions it bills us."""
        for cc, pid in sorted(self.identities()):
            return f"{cc}*{pid}"
        return self.name


_COLUMNS = "id, name, status, outgoing_token, versions_url, roles, endpoints, tokens_pushed_version"


def _party(row: Row) -> Party:
    return Party(
        int(row["id"]),
        row["name"],
        row["status"],
        row["outgoing_token"],
        row["versions_url"],
        json.loads(row["roles"]),
        json.loads(row["endpoints"]),
        int(row["tokens_pushed_version"]),
    )


class Parties:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def issue_token_a(self, name: str, *, now: datetime) -> tuple[Party, str]:
        """A pending party and the token A to give it out of band (printed once)."""
        token = new_token()
        row = await self.db.fetchrow(
            f"INSERT INTO ocpi_parties (name, status, incoming_hash, created_at, updated_at)"  # noqa: S608
            f" VALUES (?, 'pending', ?, ?, ?) RETURNING {_COLUMNS}",
            name,
            token_hash(token),
            to_db(now),
            to_db(now),
        )
        assert row is not None
        return _party(row), token

    async def by_token(self, candidates: list[str]) -> Party | None:
        for token in candidates:
            row = await self.db.fetchrow(
                f"SELECT {_COLUMNS} FROM ocpi_parties WHERE incoming_hash = ?"  # noqa: S608
                " AND status <> 'unregistered'",
                token_hash(token),
            )
            if row is not None:
                return _party(row)
        return None

    async def get(self, party_row: int) -> Party:
        row = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM ocpi_parties WHERE id = ?", party_row)  # noqa: S608
        if row is None:
            raise LookupError(f"no OCPI party {party_row}")
        return _party(row)

    async def registered(self) -> list[Party]:
        rows = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM ocpi_parties WHERE status = 'registered'"  # noqa: S608
            " ORDER BY id"
        )
        return [_party(r) for r in rows]

    async def start_outgoing(
        self, name: str, token_a: str, versions_url: str, *, now: datetime
    ) -> tuple[int, str]:
        """We register with a party: a row that accepts the token B we are about to send."""
        token_b = new_token()
        party_row = await self.db.fetchval(
            "INSERT INTO ocpi_parties (name, status, incoming_hash, outgoing_token, versions_url,"
            " created_at, updated_at) VALUES (?, 'pending', ?, ?, ?, ?, ?) RETURNING id",
            name,
            token_hash(token_b),
            token_a,
            versions_url,
            to_db(now),
            to_db(now),
        )
        return int(party_row), token_b

    async def complete(
        self,
        party_row: int,
        *,
        outgoing_token: str,
        versions_url: str,
        roles: list[dict[str, Any]],
        endpoints: dict[str, str],
        incoming_token: str | None,
        now: datetime,
        tx: Queries | None = None,
    ) -> None:
        """Registered: we call them with `outgoing_token`; they call us with `incoming_token`
        (None: the one already stored)."""
        db = tx or self.db
        await db.execute(
            "UPDATE ocpi_parties SET status = 'registered', outgoing_token = ?, versions_url = ?,"
            " roles = ?, endpoints = ?, incoming_hash = COALESCE(?, incoming_hash),"
            " updated_at = ? WHERE id = ?",
            outgoing_token,
            versions_url,
            json.dumps(roles),
            json.dumps(endpoints),
            token_hash(incoming_token) if incoming_token else None,
            to_db(now),
            party_row,
        )

    async def unregister(self, party_row: int, *, now: datetime) -> None:
        """DELETE /credentials: neither side's token works any more."""
        await self.db.execute(
            "UPDATE ocpi_parties SET status = 'unregistered', incoming_hash = NULL,"
            " outgoing_token = NULL, updated_at = ? WHERE id = ?",
            to_db(now),
            party_row,
        )

    async def forget(self, party_row: int) -> None:
        """A registration that failed half-way leaves nothing that accepts its token."""
        await self.db.execute(
            "DELETE FROM ocpi_parties WHERE id = ? AND status = 'pending'", party_row
        )

    async def set_tokens_pushed(self, party_row: int, version: int) -> None:
        await self.db.execute(
            "UPDATE ocpi_parties SET tokens_pushed_version = ? WHERE id = ?", version, party_row
        )
