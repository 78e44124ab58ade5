"""Unit tests of the front's WebSocket pieces that need no sockets.

Handshake validation and the 101 head, permessage-deflate negotiation and its
bounded inflation, the frame codec's events and limits, the inbound window
and queue, and the link's rules for a websocket scope's events.
"""

from __future__ import annotations

import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pagi.frontend.http1.parser import ParserLimits, RequestHead, make_parser
from pagi.frontend.link.io import LinkViolation
from pagi.frontend.link.ws_scope import WSLinkScope
from pagi.frontend.websocket.codec import CLOSE, DATA, FAIL, PING, WSCodec
from pagi.frontend.websocket.deflate import negotiate, parse_extensions
from pagi.frontend.websocket.handshake import (
    HandshakeError,
    accept_head,
    check_handshake,
    is_websocket_upgrade,
    parse_subprotocols,
)
from pagi.frontend.websocket.inbound import InboundFlow
from pagi.protocol import Event
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import FrameProtocol, Opcode

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


# --- permessage-deflate -----------------------------------------------------------


def test_extension_header_parsing() -> None:
    assert parse_extensions(
        [b'permessage-deflate; client_max_window_bits; server_max_window_bits="10", x-y, ,z']
    ) == [
        (
            "permessage-deflate",
            [("client_max_window_bits", None), ("server_max_window_bits", "10")],
        ),
        ("x-y", []),
        ("z", []),
    ]
    with pytest.raises(ValueError):
        parse_extensions([b"permessage-deflate; =3"])


@pytest.mark.parametrize(
    ("offer", "response"),
    [
        (b"permessage-deflate", b"permessage-deflate"),
        (
            b"permessage-deflate; client_max_window_bits",
            b"permessage-deflate",
        ),
        (
            b"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            b"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        ),
        (
            b"permessage-deflate; server_max_window_bits=10",
            b"permessage-deflate; server_max_window_bits=10",
        ),
        # declined offers fall through to the next one
        (
            b"permessage-deflate; server_max_window_bits=8, permessage-deflate",
            b"permessage-deflate",
        ),
        (
            b"permessage-deflate; unknown=1, permessage-deflate; server_no_context_takeover",
            b"permessage-deflate; server_no_context_takeover",
        ),
        (b"permessage-deflate; server_no_context_takeover; server_no_context_takeover", None),
        (b"permessage-deflate; client_max_window_bits=16", None),
        (b"x-webkit-deflate-frame", None),
    ],
)
def test_deflate_negotiation(offer: bytes, response: bytes | None) -> None:
    result = negotiate([offer], 1000)
    assert (result[0] if result else None) == response


def _client_for(response: bytes) -> FrameProtocol:
    ext = PerMessageDeflate()
    ext.finalize(response.decode())
    return FrameProtocol(True, [ext])


def test_compressed_round_trip_through_the_codec() -> None:
    response, deflate = negotiate([b"permessage-deflate"], 10_000) or (b"", None)
    codec = WSCodec(10_000, deflate)
    client = _client_for(response)
    text = "compress me " * 100
    events = codec.receive(bytes(client.send_data(text)))
    assert events == [(DATA, text, False)]
    client.receive_bytes(codec.message(text, False))
    frames = list(client.received_frames())
    assert frames[0].payload == text


def test_inflation_stops_at_the_size_limit() -> None:
    _response, deflate = negotiate([b"permessage-deflate"], 100_000) or (b"", None)
    codec = WSCodec(100_000, deflate)
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = bomb.compress(b"\0" * 50_000_000) + bomb.flush(zlib.Z_SYNC_FLUSH)
    frame = bytes(FrameProtocol(True, [])._serialize_frame(Opcode.BINARY, payload[:-4]))
    frame = bytes([frame[0] | 0x40]) + frame[1:]  # RSV1: compressed
    assert codec.receive(frame) == [(FAIL, 1009, "message_too_big")]


# --- codec ---------------------------------------------------------------------------


def test_codec_events_and_size_counting() -> None:
    codec = WSCodec(10)
    client = FrameProtocol(True, [])
    data = (
        bytes(client.send_data("héllo", False))  # 6 bytes of UTF-8
        + bytes(client.ping(b"p"))
        + bytes(client.send_data("wo", True))
        + bytes(client.send_data(b"", True))
        + bytes(client.close(1000, "ok"))
    )
    assert codec.receive(data) == [
        (DATA, "héllo", True),
        (PING, b"p"),
        (DATA, "wo", False),
        (DATA, b"", False),
        (CLOSE, 1000, "ok"),
    ]
    assert codec.receive(b"ignored after close") == []


def test_codec_counts_utf8_bytes_for_the_limit() -> None:
    codec = WSCodec(10)
    client = FrameProtocol(True, [])
    assert codec.receive(bytes(client.send_data("ééééé", False))) == [(DATA, "ééééé", True)]
    assert codec.receive(bytes(client.send_data("é", True))) == [(FAIL, 1009, "message_too_big")]


# --- inbound window -------------------------------------------------------------------


def test_inbound_flow_forwards_within_the_window_and_queues_the_rest() -> None:
    sent: list[tuple[Any, bool]] = []
    flow = InboundFlow(lambda data, more: sent.append((data, more)), 10, 100)
    flow.push("abc", True)
    flow.push("def", False)  # joined with its first piece
    assert sent == [("abcdef", False)] and flow.window == 4
    flow.push(b"0123456789", False)
    assert sent[-1] == (b"0123", True) and flow.pending_size == 6 and flow.blocked
    flow.push(b"xy", True)
    flow.flush()
    assert flow.pending_size == 8
    flow.credit(7)
    assert sent[-2:] == [(b"456789", False), (b"x", True)]
    assert flow.pending_size == 1 and flow.window == 0
    flow.drop_partial()  # the unfinished b"xy" message
    assert flow.pending_size == 0
    assert flow.complete_units == 16 and flow.credited == 7 and not flow.all_consumed
    flow.credit(9)
    assert flow.all_consumed


def test_inbound_flow_held_for_a_move_then_rebased_on_the_new_worker() -> None:
    sent: list[tuple[Any, bool]] = []
    flow = InboundFlow(lambda data, more: sent.append((data, more)), 10, 100)
    flow.push("ab", False)
    flow.hold()
    flow.push("", False)  # even an empty message waits
    flow.push("cdefgh", False)
    flow.push("ij", True)
    flow.flush()
    assert sent == [("ab", False)] and flow.blocked and flow.pending_size == 8
    flow.rebase(5)  # the new worker's window
    assert sent[1:] == [("", False), ("cdefg", True)]
    assert flow.credited == 0 and flow.complete_units == 6 and flow.window == 0
    flow.credit(10)
    assert sent[3:] == [("h", False), ("ij", True)] and flow.window == 7


def test_inbound_flow_overflow() -> None:
    flow = InboundFlow(lambda data, more: None, 0, 5)
    flow.push(b"123456", False)
    assert flow.overflowed


# --- link rules ------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        return lambda *args: self.calls.append((name, args))


def ev(code: Event, *fields: Any) -> list[Any]:
    return [5, 1, int(code), *fields]


def test_link_scope_accepts_a_normal_session() -> None:
    handler = Recorder()
    scope = WSLinkScope(handler, 10)
    scope.on_event(1, Event.WS_KEEPALIVE, ev(Event.WS_KEEPALIVE, 1.0, None), -1)
    scope.on_event(1, Event.WS_ACCEPT, ev(Event.WS_ACCEPT, None, []), -1)
    scope.on_event(1, Event.WS_SEND, ev(Event.WS_SEND, "abc", True), -1)
    scope.on_event(1, Event.WS_SEND, ev(Event.WS_SEND, "de", False), -1)
    scope.on_event(1, Event.WS_CLOSE, ev(Event.WS_CLOSE, 1000, ""), -1)
    assert [name for name, _ in handler.calls] == [
        "on_ws_keepalive",
        "on_ws_accept",
        "on_ws_send",
        "on_ws_send",
        "on_ws_close",
    ]
    assert scope.window == 5


@pytest.mark.parametrize(
    "events",
    [
        [ev(Event.WS_SEND, "x", False)],  # before accept
        [ev(Event.WS_ACCEPT, None, []), ev(Event.WS_ACCEPT, None, [])],
        [ev(Event.WS_ACCEPT, None, []), ev(Event.WS_SEND, "x" * 11, False)],  # over the window
        [
            ev(Event.WS_ACCEPT, None, []),
            ev(Event.WS_SEND, "x", True),
            ev(Event.WS_SEND, b"y", False),
        ],
        [ev(Event.WS_ACCEPT, None, []), ev(Event.HTTP_RESPONSE_START, 200, [], False)],
        [ev(Event.WS_CLOSE, 1000, ""), ev(Event.WS_ACCEPT, None, [])],
        [ev(Event.HTTP_RESPONSE_START, 401, [], True)],  # trailers on a denial
        [ev(Event.HTTP_RESPONSE_BODY, b"", False)],
        [ev(Event.HTTP_RESPONSE_TRAILERS, [])],
    ],
)
def test_link_scope_violations(events: list[list[Any]]) -> None:
    scope = WSLinkScope(Recorder(), 10)
    with pytest.raises(LinkViolation):
        for msg in events:
            scope.on_event(1, msg[2], msg, -1)


def test_link_scope_denial() -> None:
    handler = Recorder()
    scope = WSLinkScope(handler, 10)
    scope.on_event(1, Event.HTTP_RESPONSE_START, ev(Event.HTTP_RESPONSE_START, 401, [], False), -1)
    scope.on_event(1, Event.HTTP_RESPONSE_BODY, ev(Event.HTTP_RESPONSE_BODY, b"no", False), -1)
    assert [name for name, _ in handler.calls] == ["on_response_start", "on_response_body"]
    with pytest.raises(LinkViolation):
        scope.on_event(1, Event.WS_ACCEPT, ev(Event.WS_ACCEPT, None, []), -1)


# --- the codec's fast path agrees with wsproto ------------------------------------------

_FRAMES = st.one_of(
    st.tuples(st.just("text"), st.text(max_size=200)),
    st.tuples(st.just("bytes"), st.binary(max_size=300)),
    st.tuples(st.just("fragmented"), st.lists(st.text(max_size=20), min_size=2, max_size=4)),
    st.tuples(st.just("ping"), st.binary(max_size=20)),
    st.tuples(
        st.just("raw"),
        st.sampled_from(
            [
                b"\x81\x82\x00\x00\x00\x00\xc3\x28",  # invalid UTF-8
                b"\x81\x83\x00\x00\x00\x00\xe2\x82",  # truncated UTF-8 at the end
                b"\xc1\x80\x00\x00\x00\x00",  # RSV1 without an extension
                b"\x83\x80\x00\x00\x00\x00",  # reserved opcode
                b"\x81\x03abc",  # unmasked
                b"\x81\xfe\x00\x05\x00\x00\x00\x00hello",  # length not in its shortest form
                b"\x80\x80\x00\x00\x00\x00",  # continuation out of place
                b"\x81\xfe\x01\x00\x01\x02\x03\x04" + b"x" * 256,  # 16-bit length, masked
            ]
        ),
    ),
)


def _client_bytes(items: list[tuple[str, Any]]) -> bytes:
    client = FrameProtocol(True, [])
    out = bytearray()
    for kind, value in items:
        if kind == "text" or kind == "bytes":
            out += client.send_data(value, True)
        elif kind == "fragmented":
            for i, piece in enumerate(value):
                out += client.send_data(piece, i == len(value) - 1)
        elif kind == "ping":
            out += client.ping(value)
        else:
            out += value
    return bytes(out)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_FRAMES, max_size=8), st.lists(st.integers(0, 400), max_size=6), st.integers(8, 600)
)
def test_fast_path_and_wsproto_give_the_same_events(
    items: list[tuple[str, Any]], cuts: list[int], max_size: int
) -> None:
    data = _client_bytes(items)
    points = sorted({min(c, len(data)) for c in cuts})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    fast = WSCodec(max_size)
    slow = WSCodec(max_size)
    slow._decoder = None  # wsproto only
    got_fast = [event for piece in pieces for event in fast.receive(piece)]
    got_slow = [event for piece in pieces for event in slow.receive(piece)]
    assert got_fast == got_slow


@pytest.mark.parametrize(
    "data", ["", "h\u00e9llo", "x" * 125, "x" * 126, "y" * 65535, "z" * 65536, b"", b"\x00" * 200]
)
def test_whole_message_frames_are_what_wsproto_would_write(data: str | bytes) -> None:
    codec = WSCodec(1 << 20)
    reference = FrameProtocol(client=False, extensions=[])
    assert bytes(codec.message(data, False)) == bytes(reference.send_data(data, True))


def test_a_message_in_pieces_keeps_its_continuation_frames() -> None:
    codec = WSCodec(1 << 20)
    reference = FrameProtocol(client=False, extensions=[])
    for data, more in [("ab", True), ("cd", True), ("ef", False), (b"gh", False), ("ij", False)]:
        assert bytes(codec.message(data, more)) == bytes(reference.send_data(data, not more))


# --- declared frame lengths, per-message compression (issue 18) ---------------------


def _header(opcode: int, length: int, *, fin: bool = True, rsv1: bool = False) -> bytes:
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    if length < 126:
        size = bytes([0x80 | length])
    elif length < 65536:
        size = bytes([0x80 | 126]) + length.to_bytes(2, "big")
    else:
        size = bytes([0x80 | 127]) + length.to_bytes(8, "big")
    return bytes([first]) + size + b"\x00" * 4


def test_a_frame_declaring_too_much_fails_at_its_header() -> None:
    assert WSCodec(100).receive(_header(2, 101)) == [(FAIL, 1009, "message_too_big")]
    assert WSCodec(100).receive(_header(2, 100)) == []  # may still arrive
    codec = WSCodec(100)
    client = FrameProtocol(True, [])
    assert codec.receive(bytes(client.send_data(b"x" * 60, False))) == [(DATA, b"x" * 60, True)]
    assert codec.receive(_header(0, 41)) == [(FAIL, 1009, "message_too_big")]
    # a header split over reads fails once its length bytes are in
    codec = WSCodec(100)
    data = _header(1, 2**40)
    assert codec.receive(data[:5]) == []
    assert codec.receive(data[5:]) == [(FAIL, 1009, "message_too_big")]


def test_a_compressed_frame_is_bounded_by_deflates_worst_case() -> None:
    from pagi.frontend.websocket.codec import compressed_bound

    def fresh() -> WSCodec:
        _response, deflate = negotiate([b"permessage-deflate"], 1000) or (b"", None)
        return WSCodec(1000, deflate)

    assert fresh().receive(_header(2, compressed_bound(1000), rsv1=True)) == []
    over = compressed_bound(1000) + 1
    assert fresh().receive(_header(2, over, rsv1=True)) == [(FAIL, 1009, "message_too_big")]


def _client_and_server() -> tuple[FrameProtocol, WSCodec]:
    client_ext = PerMessageDeflate()
    offer = client_ext.offer()
    assert isinstance(offer, str)
    negotiated = negotiate([b"permessage-deflate; " + offer.encode()], 1 << 24)
    assert negotiated is not None
    response, deflate = negotiated
    client_ext.finalize(response.decode().partition(";")[2])
    return FrameProtocol(True, [client_ext]), WSCodec(1 << 24, deflate)


def test_each_outgoing_message_chooses_whether_to_compress() -> None:
    import os

    client, codec = _client_and_server()
    noise = os.urandom(300_000)
    messages: list[str | bytes] = ["a" * 5000, noise, "b" * 5000, b"z" * 10, os.urandom(50)]
    wire = [bytes(codec.message(msg, False)) for msg in messages]
    rsv1 = [bool(frame[0] & 0x40) for frame in wire]
    assert rsv1 == [True, False, True, True, False]
    assert len(wire[1]) == len(noise) + 10  # the header only: not a byte more
    client.receive_bytes(b"".join(wire))
    assert [f.payload for f in client.received_frames()] == messages  # context intact


def test_a_message_in_pieces_is_decided_by_its_first() -> None:
    import os

    client, codec = _client_and_server()
    noise = os.urandom(20_000)
    wire = [bytes(codec.message(noise[:10_000], True)), bytes(codec.message(noise[10_000:], False))]
    wire.append(bytes(codec.message("c" * 9000, True)))
    wire.append(bytes(codec.message("c" * 9000, False)))
    assert [bool(f[0] & 0x40) for f in wire] == [False, False, True, False]
    client.receive_bytes(b"".join(wire))
    payloads = [f.payload for f in client.received_frames()]
    assert payloads[0] + payloads[1] == noise and "".join(payloads[2:]) == "c" * 18000  # type: ignore[operator]
