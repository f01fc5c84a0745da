"""Health, the caller, accounts (and their IBAN), users, GDPR export/erase and the audit log."""

from __future__ import annotations

from aiohttp import web

from ..store import AccountKind, Role
from . import schemas
from .app_keys import CLOCK, STORE
from .auth import actor, admin, principal_of, scope, user
from .http import body, listing, ok, path_id


async def health(request: web.Request) -> web.Response:
    await request.app[STORE].db.fetchval("SELECT 1")
    return ok({"status": "ok", "engine": request.app[STORE].db.engine})


async def me(request: web.Request) -> web.Response:
    principal = principal_of(request)
    account = await request.app[STORE].accounts.get_account(principal.account_id)
    return ok(
        {
            "account": account,
            "user": principal.user,
            "site_id": principal.site_id,
            "admin": principal.is_admin,
        }
    )


async def list_accounts(request: web.Request) -> web.Response:
    return await listing(request, request.app[STORE].accounts.list_accounts)


async def create_account(request: web.Request) -> web.Response:
    admin(request)
    data = await body(request, schemas.ACCOUNT)
    kind: AccountKind = data.pop("kind")
    account = await request.app[STORE].accounts.create_account(
        kind, data.pop("name"), now=request.app[CLOCK](), actor=actor(request), **data
    )
    return ok(account, 201)


async def get_account(request: web.Request) -> web.Response:
    account = await request.app[STORE].accounts.get_account(path_id(request), scope(request))
    return ok(account)


async def list_users(request: web.Request) -> web.Response:
    return await listing(request, request.app[STORE].accounts.list_users)


async def create_user(request: web.Request) -> web.Response:
    admin(request)
    data = await body(request, schemas.USER)
    role: Role = data["role"]
    created = await request.app[STORE].accounts.create_user(
        path_id(request),
        data["email"],
        role,
        now=request.app[CLOCK](),
        name=data.get("name"),
        password=data.get("password"),
        actor=actor(request),
    )
    return ok(created, 201)


async def create_token(request: web.Request) -> web.Response:
    """A new token for the calling user (shown once)."""
    principal = user(request)
    data = await body(request, schemas.TOKEN)
    assert principal.user is not None
    issued = await request.app[STORE].accounts.create_user_token(
        principal.user.id, data["name"], now=request.app[CLOCK](), expires_at=data.get("expires_at")
    )
    return ok({"id": issued.id, "token": issued.secret, "expires_at": issued.expires_at}, 201)


async def export_account(request: web.Request) -> web.Response:
    data = await request.app[STORE].privacy.export(path_id(request), scope(request))
    return ok(data)


async def erase_account(request: web.Request) -> web.Response:
    account_id = path_id(request)
    await body(request, schemas.EMPTY)
    store = request.app[STORE]
    await store.privacy.erase(
        account_id, scope(request), now=request.app[CLOCK](), actor=actor(request)
    )
    return ok(await store.accounts.get_account(account_id))


async def set_iban(request: web.Request) -> web.Response:
    """The account's bank account (a lease driver's reimbursements are paid to it)."""
    data = await body(request, schemas.IBAN)
    account = await request.app[STORE].accounts.set_iban(
        path_id(request),
        data["iban"],
        scope(request),
        now=request.app[CLOCK](),
        actor=actor(request),
    )
    return ok(account)


async def list_audit(request: web.Request) -> web.Response:
    return await listing(request, request.app[STORE].audit.list)


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/health", health)
    r.add_get("/api/v1/me", me)
    r.add_post("/api/v1/tokens", create_token)
    r.add_get("/api/v1/accounts", list_accounts)
    r.add_post("/api/v1/accounts", create_account)
    r.add_get("/api/v1/accounts/{id}", get_account)
    r.add_post("/api/v1/accounts/{id}/users", create_user)
    r.add_get("/api/v1/accounts/{id}/export", export_account)
    r.add_post("/api/v1/accounts/{id}/erase", erase_account)
    r.add_put("/api/v1/accounts/{id}/iban", set_iban)
    r.add_get("/api/v1/users", list_users)
    r.add_get("/api/v1/audit", list_audit)
