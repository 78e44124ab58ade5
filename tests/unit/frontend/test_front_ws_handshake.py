"""The front's WebSocket handshake: which requests are handshakes, their
validation, the 101 head, and the HTTP/1.1 parsers stopping after one.
"""

from __future__ import annotations

import pytest
from pagi.frontend.http1.parser import ParserLimits, RequestHead, make_parser
from pagi.frontend.websocket.handshake import (
    HandshakeError,
    accept_head,
    check_handshake,
    is_websocket_upgrade,
    parse_subprotocols,
)

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="


def head(
    headers: list[tuple[bytes, bytes]] | None = None,
    *,
    method: str = "GET",
    version: str = "1.1",
    upgrade: bytes | None = b"websocket",
    content_length: int | None = None,
) -> RequestHead:
    if headers is None:
        headers = [(b"sec-websocket-version", b"13"), (b"sec-websocket-key", KEY)]
    return RequestHead(
        method, b"/ws", version, headers, True, False, content_length, False, upgrade
    )


# --- handshake ---------------------------------------------------------------------


def test_which_requests_are_websocket_handshakes() -> None:
    assert is_websocket_upgrade(head())
    assert is_websocket_upgrade(head(upgrade=b"h2c, websocket"))
    assert not is_websocket_upgrade(head(upgrade=None))  # no Connection: upgrade
    assert not is_websocket_upgrade(head(upgrade=b"h2c"))
    assert not is_websocket_upgrade(head(method="POST"))
    assert not is_websocket_upgrade(head(version="1.0"))
    assert not is_websocket_upgrade(head(content_length=5))


def test_a_valid_handshake() -> None:
    hs = check_handshake(
        head(
            [
                (b"sec-websocket-version", b"13"),
                (b"sec-websocket-key", KEY),
                (b"sec-websocket-protocol", b"chat, superchat"),
                (b"sec-websocket-protocol", b"x"),
                (b"sec-websocket-extensions", b"permessage-deflate"),
            ]
        )
    )
    assert hs.key == KEY
    assert hs.subprotocols == ["chat", "superchat", "x"]
    assert hs.extensions == [b"permessage-deflate"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ([(b"sec-websocket-key", KEY)], 426),
        ([(b"sec-websocket-version", b"8"), (b"sec-websocket-key", KEY)], 426),
        (
            [
                (b"sec-websocket-version", b"13"),
                (b"sec-websocket-version", b"13"),
                (b"sec-websocket-key", KEY),
            ],
            426,
        ),
        ([(b"sec-websocket-version", b"13")], 400),
        ([(b"sec-websocket-version", b"13"), (b"sec-websocket-key", b"short")], 400),
        ([(b"sec-websocket-version", b"13"), (b"sec-websocket-key", b"c2hvcnQ=")], 400),
        (
            [
                (b"sec-websocket-version", b"13"),
                (b"sec-websocket-key", KEY),
                (b"sec-websocket-key", KEY),
            ],
            400,
        ),
    ],
)
def test_invalid_handshakes(headers: list[tuple[bytes, bytes]], status: int) -> None:
    with pytest.raises(HandshakeError) as info:
        check_handshake(head(headers))
    assert info.value.status == status
    if status == 426:
        assert info.value.headers == ((b"sec-websocket-version", b"13"),)


def test_subprotocol_list_parsing() -> None:
    assert parse_subprotocols([b" a ,b,, c "]) == ["a", "b", "c"]
    assert parse_subprotocols([]) == []
    with pytest.raises(HandshakeError):
        parse_subprotocols([b"a b"])


def test_accept_head() -> None:
    data = accept_head(
        KEY,
        "chat",
        b"permessage-deflate",
        [[b"x-one", b"1"], [b"upgrade", b"no"], [b"server", b"mine"]],
        server_header=True,
    )
    assert data.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in data  # RFC 6455 1.3
    assert b"sec-websocket-protocol: chat\r\n" in data
    assert b"sec-websocket-extensions: permessage-deflate\r\n" in data
    assert b"x-one: 1\r\n" in data and b"upgrade: no" not in data
    assert b"server: mine\r\n" in data and b"server: pagi" not in data
    assert b"\r\ndate: " in data and data.endswith(b"\r\n\r\n")


@pytest.mark.parametrize("backend", ["h11", "httptools"])
def test_parsers_stop_after_a_handshake_and_keep_what_follows(backend: str) -> None:
    parser = make_parser(backend, ParserLimits(), is_websocket_upgrade)
    request = (
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + KEY + b"\r\n\r\n"
    )
    events = parser.feed(request + b"\x81\x85frame")
    assert [type(e).__name__ for e in events] == [
        "RequestHead",
        "EndOfMessage",
        "RequestHead",
        "EndOfMessage",
    ]
    assert parser.upgraded
    assert parser.feed(b" more") == []
    assert parser.feed_eof() == []
    assert parser.take_rest() == b"\x81\x85frame more"


@pytest.mark.parametrize("backend", ["h11", "httptools"])
def test_parsers_go_on_after_other_upgrades(backend: str) -> None:
    parser = make_parser(backend, ParserLimits(), is_websocket_upgrade)
    events = parser.feed(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"
        b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert len(events) == 4 and not parser.upgraded
