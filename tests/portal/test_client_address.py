"""Deriving the client address from the peer and the proxy headers (backend.portal.clientaddr)."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from backend.cli import parser
from backend.portal.clientaddr import (
    NO_PROXIES,
    ProxyTrust,
    client_address,
    client_scheme,
    parse_address,
)

PROXIES = ProxyTrust.parse("10.0.0.0/8, 192.0.2.10 2001:db8:ffff::/48")
FORWARDED = ProxyTrust.parse("10.0.0.0/8", "forwarded")


def xff(*lines: str) -> CIMultiDict[str]:
    return CIMultiDict(("X-Forwarded-For", line) for line in lines)


def fwd(*lines: str) -> CIMultiDict[str]:
    return CIMultiDict(("Forwarded", line) for line in lines)


def test_nothing_trusted_by_default_the_header_is_ignored() -> None:
    assert client_address("198.51.100.9", xff("203.0.113.7"), NO_PROXIES) == "198.51.100.9"
    assert client_address("10.0.0.5", xff("203.0.113.7"), NO_PROXIES) == "10.0.0.5"


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored() -> None:
    assert client_address("198.51.100.9", xff("10.0.0.1"), PROXIES) == "198.51.100.9"
    spoof = fwd("for=10.0.0.1")
    assert client_address("198.51.100.9", spoof, FORWARDED) == "198.51.100.9"


def test_one_trusted_proxy_names_the_client() -> None:
    assert client_address("10.0.0.5", xff("203.0.113.7"), PROXIES) == "203.0.113.7"


def test_what_the_client_wrote_left_of_its_own_hop_is_ignored() -> None:
    # The client sent "X-Forwarded-For: 1.1.1.1, 10.9.9.9"; the proxy appended the real peer.
    headers = xff("1.1.1.1, 10.9.9.9, 203.0.113.7")
    assert client_address("10.0.0.5", headers, PROXIES) == "203.0.113.7"


def test_a_chain_of_trusted_hops_is_walked_from_the_right() -> None:
    # client -> CDN edge (192.0.2.10) -> load balancer (10.1.1.1) -> ingress (10.0.0.5) -> us
    headers = xff("6.6.6.6, 203.0.113.7, 192.0.2.10", "10.1.1.1")  # two header lines, in order
    assert client_address("10.0.0.5", headers, PROXIES) == "203.0.113.7"


def test_when_every_hop_is_trusted_the_leftmost_is_the_client() -> None:
    assert client_address("10.0.0.5", xff("10.3.3.3, 10.2.2.2"), PROXIES) == "10.3.3.3"


def test_a_trusted_peer_without_a_header_is_itself_the_client() -> None:
    assert client_address("10.0.0.5", xff(), PROXIES) == "10.0.0.5"
    assert client_address("10.0.0.5", xff(" , "), PROXIES) == "10.0.0.5"


def test_ipv6_peers_hops_and_networks() -> None:
    headers = xff("2001:DB8:1::0:7, 2001:db8:ffff::2")
    assert client_address("2001:db8:ffff::1", headers, PROXIES) == "2001:db8:1::7"
    assert client_address("2001:db8:1::1", headers, PROXIES) == "2001:db8:1::1"  # untrusted
    assert client_address("2001:db8:ffff::1", xff("[2001:db8:2::9]:4711"), PROXIES) == (
        "2001:db8:2::9"
    )


def test_ipv4_mapped_peers_match_ipv4_trust() -> None:
    # A dual-stack listener reports an IPv4 proxy as ::ffff:10.0.0.5.
    assert client_address("::ffff:10.0.0.5", xff("203.0.113.7"), PROXIES) == "203.0.113.7"
    assert client_address("::ffff:198.51.100.9", xff("1.1.1.1"), PROXIES) == "198.51.100.9"


def test_ports_are_dropped() -> None:
    assert client_address("10.0.0.5", xff("203.0.113.7:51234"), PROXIES) == "203.0.113.7"


@pytest.mark.parametrize(
    "garbage",
    [
        "unknown",
        "_hidden",
        "203.0.113",
        "999.1.1.1",
        "203.0.113.7:port",
        "[2001:db8::1",
        "[2001:db8::1]x",
        "<script>",
        "203.0.113.7 203.0.113.8",
        "\x00",
        "1.2.3.4:99999999",
    ],
)
def test_a_malformed_hop_ends_the_walk_at_the_nearest_trusted_hop(garbage: str) -> None:
    # What lies left of it was written by someone no trusted proxy vouches for.
    headers = xff(f"1.1.1.1, {garbage}, 10.2.2.2")
    assert client_address("10.0.0.5", headers, PROXIES) == "10.2.2.2"
    assert client_address("10.0.0.5", xff(garbage), PROXIES) == "10.0.0.5"


def test_malformed_entries_written_by_the_client_do_not_matter() -> None:
    headers = xff("garbage, ,,[::1, 203.0.113.7")
    assert client_address("10.0.0.5", headers, PROXIES) == "203.0.113.7"


def test_forwarded_header_rfc7239() -> None:
    headers = fwd('for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https;by=10.0.0.5')
    assert client_address("10.0.0.5", headers, FORWARDED) == "2001:db8:cafe::17"
    assert client_address("10.0.0.5", fwd("For=203.0.113.7;Proto=https"), FORWARDED) == (
        "203.0.113.7"
    )
    chain = fwd("for=203.0.113.7", 'for=10.1.1.1;host="a,b;c"')  # separators inside quotes
    assert client_address("10.0.0.5", chain, FORWARDED) == "203.0.113.7"


@pytest.mark.parametrize(
    "element",
    [
        "for=unknown",
        "for=_hidden",
        "proto=https",
        "for=1.1.1.1;for=2.2.2.2",
        'for="[::1"',
        "for=2001:db8::1",
        "for",
        "=1.2.3.4",
        'for="203.0.113.7" junk',
    ],
)
def test_a_forwarded_element_without_a_usable_for_ends_the_walk(element: str) -> None:
    headers = fwd(f"for=1.1.1.1, {element}, for=10.2.2.2")
    assert client_address("10.0.0.5", headers, FORWARDED) == "10.2.2.2"


def test_an_unclosed_quote_spoils_the_rest_of_the_line() -> None:
    # Everything after the quote is one malformed element: the walk stops at the peer.
    headers = fwd('for=1.1.1.1, for="[::1], for=10.2.2.2')
    assert client_address("10.0.0.5", headers, FORWARDED) == "10.0.0.5"


def test_only_the_configured_header_is_read() -> None:
    # A proxy that sets X-Forwarded-For passes a client's Forwarded header through, and back.
    both = CIMultiDict([("Forwarded", "for=1.1.1.1"), ("X-Forwarded-For", "203.0.113.7")])
    assert client_address("10.0.0.5", both, PROXIES) == "203.0.113.7"
    both = CIMultiDict([("Forwarded", "for=203.0.113.7"), ("X-Forwarded-For", "1.1.1.1")])
    assert client_address("10.0.0.5", both, FORWARDED) == "203.0.113.7"


def test_plain_mappings_and_odd_peers() -> None:
    assert client_address("10.0.0.5", {"x-forwarded-for": "203.0.113.7"}, PROXIES) == (
        "203.0.113.7"
    )
    assert client_address(None, xff("203.0.113.7"), PROXIES) is None
    assert client_address("", xff("203.0.113.7"), PROXIES) is None
    assert client_address("/run/eflux.sock", xff("203.0.113.7"), PROXIES) == "/run/eflux.sock"


def test_parse_address() -> None:
    assert str(parse_address(" 192.0.2.1 ")) == "192.0.2.1"
    assert str(parse_address("[::1]:_abc")) == "::1"
    assert parse_address("192.0.2.1:") is None
    assert parse_address("::1:80") is not None  # a bare IPv6 address, not a port
    assert parse_address("example.org") is None


def test_trusted_proxies_setting_is_checked() -> None:
    assert ProxyTrust.parse("").networks == ()
    assert len(ProxyTrust.parse(["10.0.0.1", "::1, fd00::/8"]).networks) == 3
    for bad in ("10.0.0.7/8", "proxy.local", "10.0.0.0/33"):
        with pytest.raises(ValueError, match="trusted proxy"):
            ProxyTrust.parse(bad)
    with pytest.raises(ValueError, match="proxy header"):
        ProxyTrust.parse("10.0.0.1", "x-real-ip")


def test_serve_takes_the_setting_from_the_option_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = parser().parse_args(["serve"])
    assert ProxyTrust.parse(args.trusted_proxies, args.proxy_header) == NO_PROXIES
    monkeypatch.setenv("EFLUX_BACKEND_TRUSTED_PROXIES", "10.0.0.0/8 ::1")
    monkeypatch.setenv("EFLUX_BACKEND_PROXY_HEADER", "forwarded")
    args = parser().parse_args(["serve"])
    trust = ProxyTrust.parse(args.trusted_proxies, args.proxy_header)
    assert trust.header == "forwarded"
    assert len(trust.networks) == 2
    args = parser().parse_args(["serve", "--trusted-proxies", "192.0.2.1"])
    assert ProxyTrust.parse(args.trusted_proxies).networks == ProxyTrust.parse("192.0.2.1").networks
    with pytest.raises(SystemExit):
        parser().parse_args(["serve", "--trusted-proxies", "10.0.0.1/8"])
    assert "host bits set" in capsys.readouterr().err


def test_the_scheme_comes_from_a_trusted_proxy_only() -> None:
    https = CIMultiDict([("X-Forwarded-Proto", "https")])
    assert client_scheme("198.51.100.9", https, PROXIES, "http") == "http"  # untrusted peer
    assert client_scheme("10.0.0.5", https, PROXIES, "http") == "https"
    assert client_scheme("10.0.0.5", CIMultiDict(), PROXIES, "http") == "http"
    last = CIMultiDict([("X-Forwarded-Proto", "http, HTTPS ")])  # the nearest proxy's
    assert client_scheme("10.0.0.5", last, PROXIES, "http") == "https"
    for odd in ("ftp", "javascript", " , ", "https://x"):
        odd_header = CIMultiDict([("X-Forwarded-Proto", odd)])
        assert client_scheme("10.0.0.5", odd_header, PROXIES, "http") == "http"
    # Only the configured header family: Forwarded's proto is not read in x-forwarded-for mode.
    assert client_scheme("10.0.0.5", fwd("for=1.1.1.1;proto=https"), PROXIES, "http") == "http"


def test_forwarded_proto_is_the_one_of_the_client_element() -> None:
    chain = fwd("for=203.0.113.7;proto=https, for=10.1.1.1;proto=http")
    assert client_scheme("10.0.0.5", chain, FORWARDED, "http") == "https"
    assert client_scheme("10.0.0.5", fwd("for=203.0.113.7"), FORWARDED, "http") == "http"
    assert client_scheme("198.51.100.9", chain, FORWARDED, "http") == "http"
    xfp = CIMultiDict([("X-Forwarded-Proto", "https")])
    assert client_scheme("10.0.0.5", xfp, FORWARDED, "http") == "http"
