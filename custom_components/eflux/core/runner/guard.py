"""Cross-site protection of the local API (a middleware of its own, see `build_app`).

A browser on the LAN will send requests to `http://127.0.0.1:8088` for any web page it shows,
and DNS rebinding lets a page on a name the attacker controls reach it "same-origin". With no
token on loopback (the default) such a request would be obeyed, so:
- `Host` must name this API: a loopback name (`localhost`, `*.localhost`), an IP literal (an IP
  cannot be rebound: a page on it is simply another origin, caught below), or a name listed in
  `api.allowed_hosts`. Anything else is a rebinding attempt: 403 `host_not_allowed` (not
  421, which browsers retry on a new connection).
- a request carrying an `Origin` must come from the API's own origin (same scheme-less host and
  port as `Host`); `Origin: null` (sandboxed frames, files) and any other origin: 403
  `cross_origin`. Clients that are not browsers send no `Origin` and are unaffected.
- commands (POST, PUT, PATCH, and DELETE with a body) must say `Content-Type: application/json`:
  the types a page may send without a CORS preflight (text/plain, forms) never reach a handler
  (415 `unsupported_media_type`).
- OPTIONS is answered here (204 with `Allow` for the path, 404 for an unknown path) and never
  grants CORS: no `Access-Control-Allow-*` header is ever sent, so a preflight always fails.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.web_urldispatcher import UrlMappingMatchInfo

from .errors import ApiError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON = "application/json"


def split_host(value: str) -> tuple[str, int | None] | None:
    """("name", port) from a Host header or an origin's netloc; None when malformed."""
    try:
        parts = urlsplit(f"//{value}")
        port = parts.port
    except ValueError:
        return None
    name = (parts.hostname or "").rstrip(".").lower()
    if not name or parts.username is not None or parts.password is not None:
        return None
    return name, port


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_allowed(name: str, configured: Iterable[str]) -> bool:
    if name == "localhost" or name.endswith(".localhost") or is_ip(name):
        return True
    return name in {host.rstrip(".").lower() for host in configured}


def guard(allowed_hosts: Iterable[str] = ()) -> Any:
    configured = tuple(allowed_hosts)

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = split_host(request.headers.get("Host", ""))
        if host is None or not host_allowed(host[0], configured):
            raise ApiError(
                403,
                "host_not_allowed",
                "the Host header names neither this machine nor a host in api.allowed_hosts",
            )
        origin = request.headers.get("Origin")
        if origin is not None and not _same_origin(origin, host):
            raise ApiError(403, "cross_origin", f"requests from origin {origin!r} are refused")
        if request.method == "OPTIONS":
            return await _options(request)
        if _needs_json(request) and request.content_type != JSON:
            raise ApiError(
                415,
                "unsupported_media_type",
                f"commands need Content-Type: {JSON}, got {request.content_type!r}",
            )
        return await handler(request)

    return check


def _needs_json(request: web.Request) -> bool:
    """POST, PUT, PATCH always (an empty simple POST has no type at all); DELETE with a body."""
    if request.method not in COMMAND_METHODS or console_path(request.path):
        return False  # the console's forms carry a CSRF token of the session instead
    return request.method != "DELETE" or request.body_exists


def console_path(path: str) -> bool:
    """The console's pages (runner/console): forms with CSRF tokens and a login of their own;
    `/` only sends a browser there."""
    return path in ("/", "/console") or path.startswith("/console/")


def _same_origin(origin: str, host: tuple[str, int | None]) -> bool:
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or parts.path not in ("", "/"):
        return False
    theirs = split_host(parts.netloc)
    if theirs is None:
        return False
    default = 443 if parts.scheme == "https" else 80
    return (theirs[0], theirs[1] or default) == (host[0], host[1] or default)


async def _options(request: web.Request) -> web.Response:
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        match, methods = await resource.resolve(request)
        if isinstance(match, UrlMappingMatchInfo):
            allowed.add(match.route.method)
        allowed |= methods
    if not allowed:
        raise ApiError(404, "not_found", f"no such path: {request.path}")
    allowed.discard("*")
    if "GET" in allowed:
        allowed.add("HEAD")
    methods_text = ", ".join(sorted(allowed | {"OPTIONS"}))
    return web.Response(status=204, headers={"Allow": methods_text})
