"""PROXY protocol v1/v2 and proxy-header parsing: valid and malformed input."""

from __future__ import annotations

import ipaddress
import struct

import pytest
from pagi.frontend.forwarded import Forwarded, TrustedProxies, resolve
from pagi.frontend.proxy_protocol import V2_SIGNATURE, ProxyHeader, ProxyProtocolError, parse


def v2(command: int, family: int, body: bytes) -> bytes:
    return V2_SIGNATURE + struct.pack("!BBH", 0x20 | command, family, len(body)) + body


def test_v1_tcp4_tcp6_unknown() -> None:
    data = b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET / HTTP/1.1\r\n"
    header = parse(data)
    assert header == ProxyHeader(45, ("192.0.2.1", 56324), ("198.51.100.2", 443), 1)
    assert data[header.consumed :].startswith(b"GET /")
    assert parse(b"PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n") == ProxyHeader(
        40, ("2001:db8::1", 1), ("2001:db8::2", 2), 1
    )
    assert parse(b"PROXY UNKNOWN\r\n") == ProxyHeader(15, None, None, 1)
    assert parse(b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n") is not None


@pytest.mark.parametrize("partial", [b"", b"P", b"PROX", b"PROXY TCP4 1.2.3.4", b"\r\n\r\n\0"])
def test_incomplete_headers_ask_for_more(partial: bytes) -> None:
    assert parse(partial) is None


def test_v2_incomplete() -> None:
    full = v2(1, 0x11, bytes(12))
    for cut in range(len(full)):
        assert parse(full[:cut]) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GET / HTTP/1.1\r\n", "does not start with a PROXY"),
        (b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "malformed PROXY v1"),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "malformed PROXY v1"),
        (b"PROXY TCP4 1.2.3.400 5.6.7.8 1 2\r\n", "not an IP address"),
        (b"PROXY TCP4 ::1 5.6.7.8 1 2\r\n", "not an IPv4 address"),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", "out of range"),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", "bad port"),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "not ended by CRLF"),
        (b"PROXY " + b"A" * 120, "longer than 107"),
        (b"PROXY TCP4 \xff.2.3.4 5.6.7.8 1 2\r\n", "not ASCII"),
        (V2_SIGNATURE + b"\x31\x11\x00\x0c" + bytes(12), "version 3"),
        (V2_SIGNATURE + b"\x22\x11\x00\x0c" + bytes(12), "unknown command 2"),
        (V2_SIGNATURE + b"\x21\x11\xff\xff", "over 4096"),
        (v2(1, 0x11, bytes(8)), "shorter than 12"),
        (v2(1, 0x21, bytes(20)), "shorter than 36"),
        (v2(1, 0x51, bytes(12)), "unknown address family 5"),
        (v2(1, 0x13, bytes(12)), "unknown transport protocol 3"),
        (b"\r\n\r\nX", "does not start with a PROXY"),
    ],
)
def test_malformed_headers_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(ProxyProtocolError, match=message):
        parse(data)


def test_v2_proxy_local_and_families() -> None:
    body4 = ipaddress.IPv4Address("192.0.2.1").packed + ipaddress.IPv4Address("10.0.0.1").packed
    header = parse(v2(1, 0x11, body4 + struct.pack("!HH", 5000, 80) + b"\x04\x00\x01x") + b"GET")
    assert header == ProxyHeader(16 + 16, ("192.0.2.1", 5000), ("10.0.0.1", 80), 2)  # TLV skipped
    body6 = ipaddress.IPv6Address("2001:db8::1").packed + ipaddress.IPv6Address("::1").packed
    header = parse(v2(1, 0x21, body6 + struct.pack("!HH", 1, 2)))
    assert header is not None and header.client == ("2001:db8::1", 1)
    assert parse(v2(0, 0x00, b"")) == ProxyHeader(16, None, None, 2)  # LOCAL health check
    assert parse(v2(1, 0x31, bytes(216))) == ProxyHeader(16 + 216, None, None, 2)  # AF_UNIX


LOCAL = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])


def h(*pairs: tuple[str, str]) -> list[tuple[bytes, bytes]]:
    return [(n.encode(), v.encode()) for n, v in pairs]


def test_trusted_proxies() -> None:
    assert LOCAL.trusts("127.0.0.1") and LOCAL.trusts("10.2.3.4")
    assert not LOCAL.trusts("192.0.2.1") and not LOCAL.trusts(None) and not LOCAL.trusts("x")
    assert TrustedProxies.parse("*").trusts("203.0.113.9")
    with pytest.raises(ValueError, match="'nope' is not an IP"):
        TrustedProxies.parse("127.0.0.1, nope")


def test_x_forwarded_headers() -> None:
    got = resolve(
        h(
            ("X-Forwarded-For", "203.0.113.7, 10.1.1.1"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "example.com"),
        ),
        LOCAL,
        websocket=False,
    )
    # 10.1.1.1 is a trusted proxy hop: the client is the one before it.
    assert got == Forwarded(["203.0.113.7", 0], "https", ["example.com", 443])
    got = resolve(h(("x-forwarded-proto", "https")), LOCAL, websocket=True)
    assert got.scheme == "wss" and got.client is None


def test_a_client_cannot_forge_its_address_past_an_appending_proxy() -> None:
    # The client sent "X-Forwarded-For: 1.1.1.1"; nginx appended the real peer.
    got = resolve(h(("x-forwarded-for", "1.1.1.1, 198.51.100.5")), LOCAL, websocket=False)
    assert got.client == ["198.51.100.5", 0]


def test_rfc7239_forwarded() -> None:
    got = resolve(
        h(
            ("Forwarded", 'for="[2001:db8:cafe::17]:4711";proto=https;host="example.com:8443"'),
            ("X-Forwarded-For", "9.9.9.9"),  # Forwarded wins
        ),
        LOCAL,
        websocket=False,
    )
    assert got == Forwarded(["2001:db8:cafe::17", 4711], "https", ["example.com", 8443])
    got = resolve(h(("forwarded", "for=192.0.2.60;proto=http, for=10.0.0.2")), LOCAL, False)
    assert got.client == ["192.0.2.60", 0]
    assert resolve(h(("forwarded", "for=_hidden")), LOCAL, False).client is None
    assert resolve(h(("forwarded", "for=unknown")), LOCAL, False).client is None


@pytest.mark.parametrize(
    "value", ['for="unterminated', "for", "=x", 'for="[2001:db8::1"', "for=1.2.3.4:99999x"]
)
def test_malformed_forwarded_is_ignored(value: str) -> None:
    got = resolve(h(("forwarded", value)), LOCAL, websocket=False)
    assert got.client is None and got.scheme is None


def test_bad_values_are_ignored() -> None:
    got = resolve(
        h(("x-forwarded-for", "not-an-ip"), ("x-forwarded-proto", "gopher")), LOCAL, False
    )
    assert got == Forwarded()
