"""Bearer tokens: every route but /health needs one; user routes refuse site tokens and back."""

from __future__ import annotations

from aiohttp import web

from ..store import Principal, Site
from .app_keys import CLOCK, STORE
from .errors import ApiError, Handler

# The provider's webhook carries no token: it names a payment id, which is then looked up at
# the provider (nothing in its body is believed).
PUBLIC = frozenset({"/api/v1/health", "/api/v1/payments/webhook"})
PRINCIPAL = "eflux_principal"  # request key (aiohttp 3.11 has no typed RequestKey)
MAX_TOKEN_LENGTH = 200


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PUBLIC or not request.path.startswith("/api/"):
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    # Tokens are ASCII; other header bytes arrive as surrogates and would fail at hashing.
    if (
        scheme.lower() != "bearer"
        or not secret
        or len(secret) > MAX_TOKEN_LENGTH
        or not secret.isascii()
    ):
        raise ApiError(401, "unauthorized", "send 'Authorization: Bearer <token>'")
    principal = await request.app[STORE].accounts.authenticate(
        secret.strip(), now=request.app[CLOCK]()
    )
    if principal is None:
        raise ApiError(401, "unauthorized", "the token is unknown, revoked or expired")
    request[PRINCIPAL] = principal
    return await handler(request)


def principal_of(request: web.Request) -> Principal:
    principal = request[PRINCIPAL]
    assert isinstance(principal, Principal)
    return principal


def user(request: web.Request) -> Principal:
    """The caller, who must be a user (not a site)."""
    principal = principal_of(request)
    if principal.user is None:
        raise ApiError(403, "forbidden", "this route needs a user token, not a site token")
    return principal


def admin(request: web.Request) -> Principal:
    principal = user(request)
    if not principal.is_admin:
        raise ApiError(403, "forbidden", "this route is for administrators")
    return principal


def scope(request: web.Request) -> int | None:
    """The account a user may see, or None for an admin (everything)."""
    principal = user(request)
    return None if principal.is_admin else principal.account_id


async def owner(request: web.Request, account_id: int | None) -> int:
    """The account a new record belongs to: the caller's; an admin may name another."""
    principal = user(request)
    if account_id is None or account_id == principal.account_id:
        return principal.account_id
    if not principal.is_admin:
        raise ApiError(403, "forbidden", "only administrators create records for other accounts")
    await request.app[STORE].accounts.get_account(account_id)
    return int(account_id)


def actor(request: web.Request) -> str:
    principal = principal_of(request)
    if principal.user is not None:
        return f"user:{principal.user.id}"
    return f"site:{principal.site_id}"


async def site(request: web.Request) -> Site:
    """The caller's site, who must hold a site token."""
    principal = principal_of(request)
    if principal.site_id is None:
        raise ApiError(403, "forbidden", "this route needs a site token")
    return await request.app[STORE].sites.get_site(principal.site_id)
