"""Field validity of received HTTP/2 header blocks (pagi's checks, h2's validation off)."""

from __future__ import annotations

import pytest
from pagi.frontend.http2.fields import MalformedRequest, check_field, check_trailers
from pagi.frontend.http2.request import read_request

REQUEST = [
    (b":method", b"GET"),
    (b":scheme", b"https"),
    (b":path", b"/a?b=1"),
    (b":authority", b"x"),
]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (b"", b"1"),
        (b"X-A", b"1"),
        (b"x a", b"1"),
        (b"x:a", b"1"),
        (b"x\x7f", b"1"),
        (b"x\xe9", b"1"),
        (b"x", b"a\x00"),
        (b"x", b"a\rb"),
        (b"x", b"a\nb"),
        (b"x", b" a"),
        (b"x", b"a\t"),
        (b"connection", b"close"),
        (b"transfer-encoding", b"chunked"),
        (b"te", b"gzip"),
    ],
)
def test_invalid_fields(name: bytes, value: bytes) -> None:
    with pytest.raises(MalformedRequest):
        check_field(name, value)
    with pytest.raises(MalformedRequest):  # still refused the second time (never cached)
        check_field(name, value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (b"x-a", b""),
        (b"x-a", b"a b\tc"),
        (b"te", b"Trailers"),
        (b"!#$%&'*+-.^_`|~09az", b"\x80\xff"),
    ],
)
def test_valid_fields(name: bytes, value: bytes) -> None:
    check_field(name, value)
    check_field(name, value)


def test_read_request_facts() -> None:
    facts = read_request([*REQUEST, (b"cookie", b"a=1"), (b"accept", b"*/*"), (b"cookie", b"b=2")])
    assert (facts.method, facts.raw_path, facts.query_string) == ("GET", b"/a", b"b=1")
    assert facts.headers == [(b"host", b"x"), (b"cookie", b"a=1; b=2"), (b"accept", b"*/*")]
    assert read_request([*REQUEST, (b"host", b"x")]).headers == [(b"host", b"x")]


@pytest.mark.parametrize(
    "block",
    [
        [(b"x-a", b"1"), *REQUEST],
        [*REQUEST, (b":path", b"/b")],
        [*REQUEST, (b":status", b"200")],
        [*REQUEST, (b":foo", b"1")],
        [*REQUEST[1:]],
        [REQUEST[0], *REQUEST[2:]],
        [*REQUEST[:3]],
        [*REQUEST, (b"host", b"y")],
        [*REQUEST[:3], (b"host", b"x"), (b"host", b"x")],
        [*REQUEST, (b":protocol", b"websocket")],
        [(b":method", b"CONNECT"), (b":scheme", b"https"), (b":authority", b"x:1")],
        [REQUEST[0], REQUEST[1], (b":path", b"/a\nb"), REQUEST[3]],
        [*REQUEST, (b"content-length", b"1"), (b"content-length", b"2")],
    ],
)
def test_malformed_requests(block: list[tuple[bytes, bytes]]) -> None:
    with pytest.raises(MalformedRequest):
        read_request(block)


def test_connect_forms() -> None:
    assert read_request([(b":method", b"CONNECT"), (b":authority", b"x:1")]).target == b""
    ws = [(b":method", b"CONNECT"), (b":protocol", b"websocket"), *REQUEST[1:]]
    assert read_request(ws).protocol == "websocket"


def test_trailers() -> None:
    check_trailers([(b"x-t", b"1")])
    for block in ([(b":path", b"/")], [(b"X-T", b"1")], [(b"x-t", b"a\r")]):
        with pytest.raises(MalformedRequest):
            check_trailers(block)
