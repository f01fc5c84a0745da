"""The client's address (and scheme) as seen through trusted reverse proxies.

The address keys the portal's login/reset rate limit and goes into the access log; the scheme
decides the session cookie's Secure flag (links in mails come from settings: publicurl.py).

Behind a reverse proxy every connection comes from the proxy, so the peer address is the same
for every client. The proxy names the client in a header, but anyone can send that header:
it is read only when the direct peer is in `trusted_proxies`, and then walked from the right
(each trusted proxy appends the address it was connected from), skipping trusted hops. The
first untrusted hop is the client; anything left of it was written by the client and is
ignored. With nothing trusted (the default) the answer is always the peer address.

    trust = ProxyTrust.parse("10.0.0.0/8, 2001:db8::/32")
    client_address("10.0.0.5", {"X-Forwarded-For": "6.6.6.6, 203.0.113.7"}, trust)
    # -> "203.0.113.7" (6.6.6.6 was written by the client itself)

Which header is read is a setting, never "whichever is present": a proxy that sets one of them
passes the other through from the client untouched, and reading that one would let the client
choose its address.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from multidict import MultiMapping

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
ProxyHeader = Literal["x-forwarded-for", "forwarded"]
PROXY_HEADERS: tuple[ProxyHeader, ...] = get_args(ProxyHeader)
Headers = MultiMapping[str] | Mapping[str, str]

# RFC 7239 node port: digits or an obfuscated "_name".
_PORT = re.compile(r":(?:[0-9]{1,5}|_[A-Za-z0-9._-]+)")
_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PAIR = re.compile(rf'\s*({_TCHARS})\s*=\s*({_TCHARS}|"(?:[^"\\]|\\.)*")\s*')


@dataclass(frozen=True, slots=True)
class ProxyTrust:
    """Which peers may name the client, and in which header they do."""

    networks: tuple[IPNetwork, ...] = ()
    header: ProxyHeader = "x-forwarded-for"

    @classmethod
    def parse(cls, entries: str | Iterable[str], header: str = "x-forwarded-for") -> ProxyTrust:
        """`10.0.0.1, 10.1.0.0/16 ::1` (commas or spaces); a ValueError names a bad entry."""
        if header not in PROXY_HEADERS:
            raise ValueError(f"proxy header {header!r}: use one of {', '.join(PROXY_HEADERS)}")
        texts = [entries] if isinstance(entries, str) else list(entries)
        networks: list[IPNetwork] = []
        for text in texts:
            for entry in text.replace(",", " ").split():
                try:
                    # strict: "10.0.0.7/8" is a typo more often than a wish to trust a /8.
                    networks.append(ipaddress.ip_network(entry, strict=True))
                except ValueError as err:
                    raise ValueError(f"trusted proxy {entry!r}: {err}") from None
        return cls(tuple(networks), header)

    def trusts(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


@dataclass(frozen=True, slots=True)
class _Hop:
    address: IPAddress | None  # None: malformed, or not an address (`unknown`, `_hidden`)
    proto: str | None = None  # RFC 7239 `proto=` of the element


NO_PROXIES = ProxyTrust()
PROXY_TRUST = web.AppKey("proxy_trust", ProxyTrust)


def parse_address(text: str) -> IPAddress | None:
    """One hop (`192.0.2.1`, `192.0.2.1:80`, `2001:db8::1`, `[2001:db8::1]:80`), or None."""
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or (text[end + 1 :] and not _PORT.fullmatch(text[end + 1 :])):
            return None
        host = text[1:end]
    elif text.count(":") == 1:  # IPv4 with a port (a bare IPv6 address has two or more)
        host, _, port = text.partition(":")
        if not _PORT.fullmatch(":" + port) or "." not in host:
            return None
    else:
        host = text
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; trust lists name them as IPv4.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _split(text: str, separator: str) -> Iterator[str]:
    """Split on `separator` outside quoted strings (RFC 7230 list syntax)."""
    start, quoted, escaped = 0, False, False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            yield text[start:i]
            start = i + 1
    yield text[start:]


def _forwarded_for(element: str) -> _Hop:
    """The `for=` node (and `proto=`) of one RFC 7239 element; no address if it is unusable."""
    found: dict[str, str] = {}
    for pair in _split(element, ";"):
        match = _pair(pair)
        if match is None:
            return _Hop(None)
        name, value = match[0].lower(), match[1]
        if name in found:
            return _Hop(None)  # two `for`s: which one the proxy meant is unknowable
        found[name] = value
    node = found.get("for")
    return _Hop(parse_address(node) if node is not None else None, found.get("proto"))


def _pair(pair: str) -> tuple[str, str] | None:
    match = _PAIR.fullmatch(pair)
    if match is None:
        return None
    value = match.group(2)
    if value.startswith('"'):
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    return match.group(1), value


def _values(headers: Headers, name: str) -> list[str]:
    if isinstance(headers, MultiMapping):
        return list(headers.getall(name, []))
    # A plain mapping (tests, callers without a multidict): match the name case-insensitively.
    return [value for key, value in headers.items() if key.lower() == name]


def _hops(headers: Headers, header: ProxyHeader) -> list[_Hop]:
    """The header's hops left to right (no address for a malformed one); empty items skipped.

    Several header lines are one list in order (RFC 7230 §3.2.2).
    """
    hops: list[_Hop] = []
    for line in _values(headers, header):
        for item in _split(line, ","):
            if not item.strip():
                continue
            hops.append(
                _Hop(parse_address(item)) if header == "x-forwarded-for" else _forwarded_for(item)
            )
    return hops


def _client_hop(headers: Headers, trust: ProxyTrust) -> _Hop | None:
    """The hop that names the client, for a trusted peer; None: the peer named nobody.

    Walking from the right, each trusted hop vouches for the next one to its left. A malformed
    hop (`unknown`, an obfuscated name, garbage) ends the walk at the nearest trusted hop: what
    lies left of it was written by a party nobody vouches for. When every hop is trusted the
    leftmost is the client (a client inside a trusted network).
    """
    found = None
    for hop in reversed(_hops(headers, trust.header)):
        if hop.address is None:
            break
        found = hop
        if not trust.trusts(hop.address):
            break
    return found


def _trusted_peer(peer: str | None, trust: ProxyTrust) -> IPAddress | None:
    address = parse_address(peer) if peer else None
    return address if address is not None and trust.trusts(address) else None


def client_address(peer: str | None, headers: Headers, trust: ProxyTrust) -> str | None:
    """The client's address: the peer, unless it is a trusted proxy that names someone else."""
    address = parse_address(peer) if peer else None
    if address is None:
        return peer or None  # not an IP peer (a Unix socket): nothing to trust it by
    if not trust.trusts(address):
        return str(address)
    hop = _client_hop(headers, trust)
    return str(hop.address if hop is not None else address)


def client_scheme(peer: str | None, headers: Headers, trust: ProxyTrust, own: str) -> str:
    """`http` or `https` as the client used it: what a trusted proxy says, else `own`.

    Forwarded: the `proto=` of the element that names the client (written by the proxy the
    client talked to). X-Forwarded-Proto: the last value, the nearest proxy's. Anything but
    http/https is ignored. A forged value can only hurt its sender (a Secure cookie over
    plain http is not stored), unlike a forged address.
    """
    if _trusted_peer(peer, trust) is None:
        return own
    if trust.header == "forwarded":
        hop = _client_hop(headers, trust)
        proto = hop.proto if hop is not None else None
    else:
        values = [v for line in _values(headers, "x-forwarded-proto") for v in line.split(",")]
        proto = next((v for v in reversed(values) if v.strip()), None)
    proto = proto.strip().lower() if proto is not None else None
    return proto if proto in ("http", "https") else own


def request_client(request: web.Request) -> str:
    """`client_address` of a request, with the trust set on the application (or its parent)."""
    trust = request.config_dict.get(PROXY_TRUST, NO_PROXIES)
    return client_address(request.remote, request.headers, trust) or "unknown"


def request_scheme(request: web.Request) -> str:
    """`client_scheme` of a request: decides the Secure cookie flag (not links: publicurl.py)."""
    trust = request.config_dict.get(PROXY_TRUST, NO_PROXIES)
    return client_scheme(request.remote, request.headers, trust, request.scheme)


def access_logger(trust: ProxyTrust) -> type[AbstractAccessLogger]:
    """An access-log class (for `web.run_app`) that logs the client address, and the proxy.

    aiohttp's own `%a` is the peer, which behind a proxy is the proxy for every line.
    """

    class ClientAccessLogger(AbstractAccessLogger):
        def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
            peer = request.remote
            client = client_address(peer, request.headers, trust) or "-"
            via = f" via {peer}" if peer and client != peer else ""
            self.logger.info(
                '%s%s "%s %s HTTP/%d.%d" %d %d %.3fs "%s"',
                client,
                via,
                request.method,
                request.path_qs,
                request.version.major,
                request.version.minor,
                response.status,
                response.body_length,
                time,
                request.headers.get("User-Agent", "-"),
                extra={"client_address": client, "peer_address": peer},
            )

    return ClientAccessLogger
