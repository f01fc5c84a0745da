"""Where absolute links the back end sends (password-reset mails) point: never the Host header.

A link built from the request's Host header points wherever the requester says: anyone can ask
for a reset of a victim's address with `Host: evil.example`, and the victim's mail then carries
a link to the attacker's server (the token leaks when it is opened). So links come from
configuration, the way mature web apps do it (Django's SITE_URL-style settings, GitLab's
external_url, Gitea's ROOT_URL):

- `public_url` (`serve --public-url`, $EFLUX_BACKEND_PUBLIC_URL): the URL users open the portal
  at, e.g. `https://portal.example.com` or `https://example.com/eflux` behind a proxy;
- not set: the address the server itself listens on (`serve`'s host and port). A wildcard bind
  (0.0.0.0, ::) names no single host, so the local address of the connection the request came
  in on is used: still an address of this server, chosen by the socket, not by a header.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from .clientaddr import parse_address

# Binds that name no single host (a bind address, not a link: S104 is about binding).
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104


@dataclass(frozen=True, slots=True)
class ListenAddress:
    """What `serve` bound; port 0 (any free port) is read from the socket instead."""

    host: str
    port: int


PUBLIC_URL = web.AppKey("public_url", str)
LISTEN_ADDRESS = web.AppKey("listen_address", ListenAddress)


def parse_public_url(text: str) -> str:
    """An absolute http(s) URL without query or fragment, normalised without a trailing slash.

    A ValueError says what is wrong (checked at start, so a typo is a usage error).
    """
    try:
        parts = urlsplit(text.strip())
        port = parts.port  # raises on a port that is not a number in range
    except ValueError as err:
        raise ValueError(f"public URL {text!r}: {err}") from None
    problem = None
    if parts.scheme.lower() not in ("http", "https"):
        problem = "must start with http:// or https://"
    elif not parts.hostname:
        problem = "names no host"
    elif port == 0:
        problem = "has port 0"
    elif parts.username is not None or parts.password is not None:
        problem = "must not carry a user name or password"
    elif parts.query or "?" in text:
        problem = "must not have a query (?…)"
    elif parts.fragment or "#" in text:
        problem = "must not have a fragment (#…)"
    elif any(char.isspace() for char in text.strip()):
        problem = "must not contain spaces"
    if problem is not None:
        raise ValueError(f"public URL {text!r} {problem}")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def _url_host(host: str) -> str:
    address = parse_address(host)
    if isinstance(address, ipaddress.IPv6Address):
        return f"[{address}]"
    return str(address) if address is not None else host


def own_origin(scheme: str, host: str, port: int) -> str:
    return f"{scheme}://{_url_host(host)}:{port}"


def describe_links(public_url: str | None, host: str, port: int) -> str:
    """The line `serve` logs at start: where reset links will point, and how to change it."""
    if public_url is not None:
        return f"password-reset links point to {public_url} (the public URL)"
    if host in WILDCARD_HOSTS:
        where = "the local address each request arrived on (a wildcard bind names no host)"
    elif port == 0:
        where = f"http://{_url_host(host)} on the port picked at start"
    else:
        where = own_origin("http", host, port)
    return (
        f"no public URL set: password-reset links point to {where}, the address this server"
        " listens on; set --public-url or $EFLUX_BACKEND_PUBLIC_URL to the URL users open the"
        " portal at (e.g. https://portal.example.com)"
    )


def link_base(request: web.Request) -> str:
    """The origin (and path prefix) of absolute links, from settings and the socket only."""
    configured = request.config_dict.get(PUBLIC_URL)
    if configured:
        return configured
    listen = request.config_dict.get(LISTEN_ADDRESS)
    local = request.transport.get_extra_info("sockname") if request.transport else None
    sock_host, sock_port = (local[0], local[1]) if isinstance(local, tuple) else ("", 0)
    host = listen.host if listen is not None and listen.host not in WILDCARD_HOSTS else sock_host
    port = listen.port if listen is not None and listen.port else sock_port
    # request.scheme is the transport's (TLS or not); aiohttp reads no header for it.
    return own_origin(request.scheme, host or "localhost", port)
