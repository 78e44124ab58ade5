"""The worker-link codec: round trips, framing, and every kind of malformed input."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pagi.protocol import (
    BodyMode,
    Event,
    Kind,
    LinkDecoder,
    LinkError,
    encode,
    encode_many,
)
from pagi.protocol import messages as m
from pagi.protocol.codec import encode_with_data, extend_frame

HEADERS = [[b"host", b"example"], [b"x-bin", bytes(range(256))]]


def sample_from_worker() -> list[m.Message]:
    return [
        m.hello(1, {"pid": 42, "name": "app:app #1", "window": 65536}),
        m.event(7, Event.HTTP_RESPONSE_START, 200, HEADERS, False),
        m.event(6, Event.HTTP_RESPONSE_START, 200, HEADERS, True, b"first piece", True),
        m.event(7, Event.HTTP_RESPONSE_BODY, b"\x00\xffbody", True),
        m.event(7, Event.HTTP_RESPONSE_FILE, 0, None),
        m.ring(2 * 1024 * 1024),
        m.event(7, Event.HTTP_RESPONSE_RING, 0, 65536, True),
        m.event(7, Event.HTTP_RESPONSE_RING, 65536, 1, False),
        m.event(7, Event.HTTP_RESPONSE_TRAILERS, [[b"x-checksum", b"abc"]]),
        m.credit(7, 1024),
        m.end(7, 1, False, "ValueError: boom"),
        m.abort(7, "the app's detail"),
        m.event(8, Event.WS_ACCEPT, "chat", [[b"x-a", b"b"]]),
        m.event(8, Event.WS_ACCEPT, None, []),
        m.event(8, Event.WS_SEND, "text \u00e9", True),
        m.event(8, Event.WS_SEND, b"\x00binary", False),
        m.event(8, Event.WS_CLOSE, 1000, "bye"),
        m.event(8, Event.WS_KEEPALIVE, 20, None),
        m.event(8, Event.WS_KEEPALIVE, 0.5, 2.5),
        m.event(9, Event.SSE_KEEPALIVE, 15, "ping"),
        m.drain(),
        m.ping(9),
        m.pong(9),
        m.stats({"scopes": 3}),
    ]


def sample_from_front() -> list[m.Message]:
    return [
        m.welcome(1, {"window": 262144, "worker_id": 1}),
        m.reject("protocol version 2 not supported"),
        m.open_scope(
            1,
            "http",
            "1.1",
            "GET",
            "http",
            b"/a%20b",
            b"x=1",
            HEADERS,
            ["127.0.0.1", 5000],
            ["127.0.0.1", 8000],
            {},
            BodyMode.NONE,
        ),
        m.open_scope(
            2,
            "http",
            "1.0",
            "POST",
            "http",
            b"/",
            b"",
            [],
            None,
            ["/tmp/s", None],
            {},
            BodyMode.EXPECT_CONTINUE,
        ),
        m.event(1, Event.HTTP_REQUEST, b"chunk", False),
        m.event(3, Event.WS_RECEIVE, "h\u00e9llo", True),
        m.event(3, Event.WS_RECEIVE, b"\xff", False),
        m.event(3, Event.WS_RETURN_CREDIT),
        m.event(3, Event.WS_DISCONNECT, 1006, "client_closed"),
        m.credit(1, 10),
        m.credits({1: 10, 3: 2}),
        m.ring_done(3),
        m.close(1, "client_closed"),
        m.ping(1),
        m.pong(1),
    ]


@pytest.mark.parametrize(
    ("side", "msgs"),
    [("front", sample_from_worker()), ("worker", sample_from_front())],
)
def test_round_trip_keeps_bytes_and_str_apart(side: str, msgs: list[m.Message]) -> None:
    decoded = LinkDecoder(side).feed(encode_many(msgs))
    assert decoded == msgs
    for got, sent in zip(decoded, msgs, strict=True):
        for a, b in zip(got, sent, strict=True):
            # bytes stay bytes, str stays str, bool stays bool (IntEnum arrives as int)
            assert type(a) is type(b) or (isinstance(b, int) and type(a) is int)


def test_every_split_point_gives_the_same_messages() -> None:
    data = encode_many(sample_from_worker())
    whole = LinkDecoder("front").feed(data)
    for cut in range(len(data) + 1):
        dec = LinkDecoder("front")
        assert dec.feed(data[:cut]) + dec.feed(data[cut:]) == whole
        dec.check_eof()


@settings(max_examples=200, deadline=None)
@given(
    body=st.binary(max_size=4096),
    more=st.booleans(),
    sid=st.integers(min_value=1, max_value=2**62),
    headers=st.lists(st.tuples(st.binary(max_size=40), st.binary(max_size=200)), max_size=20),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=8),
    ring=st.tuples(st.integers(0, 2**40), st.integers(1, 2**40)),
)
def test_property_round_trip_any_split(
    body: bytes,
    more: bool,
    sid: int,
    headers: list[tuple[bytes, bytes]],
    cuts: list[int],
    ring: tuple[int, int],
) -> None:
    hdrs = [list(h) for h in headers]
    msgs = [
        m.event(sid, Event.HTTP_RESPONSE_START, 200, hdrs, more),
        m.event(sid, Event.HTTP_RESPONSE_BODY, body, more),
        m.event(sid, Event.HTTP_RESPONSE_RING, *ring, more),
        m.end(sid, 0, True, ""),
    ]
    data = encode_many(msgs)
    dec = LinkDecoder("front")
    out: list[m.Message] = []
    prev = 0
    for cut in sorted(c % (len(data) + 1) for c in cuts):
        out += dec.feed(data[prev:cut])
        prev = cut
    out += dec.feed(data[prev:])
    assert out == msgs


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_property_garbage_never_escapes_as_another_exception(garbage: bytes) -> None:
    dec = LinkDecoder("front", max_frame_size=1024)
    try:
        dec.feed(garbage)
        dec.check_eof()
    except LinkError:
        pass


def frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


def packed(value: object) -> bytes:
    return frame(msgpack.packb(value, use_bin_type=True))


def test_oversize_frame_rejected_before_payload_arrives() -> None:
    dec = LinkDecoder("front", max_frame_size=100)
    with pytest.raises(LinkError, match="exceeds the maximum"):
        dec.feed(struct.pack(">I", 101))  # only the prefix: nothing buffered yet
    with pytest.raises(LinkError, match="already failed"):
        dec.feed(b"x")


def test_short_frame_at_eof() -> None:
    dec = LinkDecoder("front")
    data = encode(m.drain())
    assert dec.feed(data[:-1]) == []
    with pytest.raises(LinkError, match="inside a frame"):
        dec.check_eof()


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (frame(b""), "empty frame"),
        (frame(b"\xc1"), "undecodable"),  # 0xc1 is never used in msgpack
        (frame(msgpack.packb([9, 0]) + b"\x00"), "undecodable"),  # two values in one frame
        (packed({"kind": 1}), "must be an array"),
        (packed([5]), "must be an array"),
        (packed([99, 0]), "unknown or unexpected message kind"),
        (packed([Kind.OPEN, 1, "http"]), "unknown or unexpected message kind"),  # wrong direction
        (packed([Kind.DRAIN, 3]), "scope_id must be 0"),
        (packed([Kind.CREDIT, 0, 5]), "scope_id must be positive"),
        (packed([Kind.CREDIT, "1", 5]), "scope_id must be an integer"),
        (packed([Kind.CREDIT, 1, 0]), "field 0"),
        (packed([Kind.CREDIT, 1, -4]), "field 0"),
        (packed([Kind.CREDIT, 1, 5, 6]), "expected 1 fields"),
        (packed([Kind.END, 1, 0, 1, ""]), "field 1"),  # int where bool is required
        (packed([Kind.EVENT, 1, 99]), "event code"),
        (packed([Kind.EVENT, 1, Event.HTTP_REQUEST, b"", False]), "event code"),  # wrong way
        (packed([Kind.EVENT, 1, Event.HTTP_RESPONSE_START, 99, [], False]), "field 0"),
        (packed([Kind.EVENT, 1, Event.HTTP_RESPONSE_START, 200, [[b"a"]], False]), "field 1"),
        (packed([Kind.EVENT, 1, Event.HTTP_RESPONSE_START, 200, [["a", "b"]], False]), "field 1"),
        (packed([Kind.EVENT, 1, Event.HTTP_RESPONSE_START, 200, [], False, b"x"]), "3 fields"),
        (packed([Kind.EVENT, 1, Event.HTTP_RESPONSE_START, 200, [], False, "x", True]), "field 3"),
        (packed([Kind.EVENT, 1, Event.HTTP_RESPONSE_START, 200, [], False, b"", 1]), "field 4"),
        (packed([Kind.EVENT, 1, Event.HTTP_RESPONSE_BODY, "text", False]), "field 0"),
        (packed([Kind.EVENT, 1, Event.HTTP_RESPONSE_FILE, -1, None]), "field 0"),
        (packed([Kind.HELLO, 0, "1", {}]), "field 0"),
        (packed([Kind.EVENT, 1, Event.WS_SEND, 5, False]), "field 0"),
        (packed([Kind.EVENT, 1, Event.WS_SEND, "x", 1]), "field 1"),
        (packed([Kind.EVENT, 1, Event.WS_CLOSE, 999, ""]), "field 0"),
        (packed([Kind.EVENT, 1, Event.WS_ACCEPT, b"chat", []]), "field 0"),
        (packed([Kind.EVENT, 1, Event.WS_KEEPALIVE, -1, None]), "field 0"),
        (packed([Kind.EVENT, 1, Event.SSE_KEEPALIVE, 5, None]), "field 1"),
        (packed([Kind.EVENT, 1, Event.WS_RECEIVE, "x", False]), "event code"),  # wrong way
        (packed([Kind.EVENT, 1, Event.WS_RETURN_CREDIT]), "event code"),  # wrong way
        (packed([Kind.CREDITS, 0, [1, 10]]), "unexpected message kind"),  # wrong way
        (packed([Kind.RING, 0, 0]), "field 0"),
        (packed([Kind.RING, 1, 4096]), "scope_id must be 0"),
        (packed([Kind.RING_DONE, 0, 1]), "unexpected message kind"),  # wrong way
        (packed([Kind.EVENT, 1, Event.HTTP_RESPONSE_RING, -1, 5, True]), "field 0"),
        (packed([Kind.EVENT, 1, Event.HTTP_RESPONSE_RING, 0, 0, True]), "field 1"),
        (packed([Kind.EVENT, 1, Event.HTTP_RESPONSE_RING, 0, 5, 1]), "field 2"),
        (packed([Kind.EVENT, 1, Event.HTTP_RESPONSE_RING, 0, 5]), "expected 3 fields"),
    ],
)
def test_malformed_messages_raise_link_error(raw: bytes, match: str) -> None:
    with pytest.raises(LinkError, match=match):
        LinkDecoder("front").feed(raw)


def test_worker_side_rejects_front_only_kinds_from_a_worker_and_vice_versa() -> None:
    with pytest.raises(LinkError):
        LinkDecoder("worker").feed(encode(m.hello(1, {})))
    opening = m.open_scope(
        1, "http", "1.1", "GET", "http", b"/", b"", [], None, None, {}, BodyMode.NONE
    )
    opening[-1] = 7  # no body mode (set here: the compiled open_scope() takes BodyMode only)
    with pytest.raises(LinkError):
        LinkDecoder("worker").feed(encode(opening))


def test_carries_fd_only_for_file_events() -> None:
    assert m.carries_fd(m.event(1, Event.HTTP_RESPONSE_FILE, 0, None))
    assert m.carries_fd(m.ring(4096))
    assert not m.carries_fd(m.event(1, Event.HTTP_RESPONSE_RING, 0, 5, True))
    assert not m.carries_fd(m.event(1, Event.HTTP_RESPONSE_BODY, b"", False))
    assert not m.carries_fd(m.drain())


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (packed([Kind.RING_DONE, 0, 0]), "field 0"),
        (packed([Kind.RING_DONE, 0, "1"]), "field 0"),
        (packed([Kind.RING_DONE, 2, 1]), "scope_id must be 0"),
        (packed([Kind.RING, 0, 4096]), "unexpected message kind"),  # wrong way
    ],
)
def test_malformed_ring_messages_are_refused_by_the_worker_side(raw: bytes, match: str) -> None:
    with pytest.raises(LinkError, match=match):
        LinkDecoder("worker").feed(raw)


def test_decoder_side_must_be_named() -> None:
    with pytest.raises(ValueError):
        LinkDecoder("middle")


@pytest.mark.parametrize("size", [0, 1, 255, 256, 4096, 65535, 65536, 200_000])
@pytest.mark.parametrize("flag", [True, False])
def test_encode_with_data_is_encode_without_the_copy(size: int, flag: bool) -> None:
    body = bytes(range(256)) * (size // 256 + 1)
    body = body[:size]
    head = [Kind.EVENT, 2**40, Event.HTTP_RESPONSE_BODY]
    view = memoryview(body)
    first, data, last = encode_with_data(head, view, flag)
    assert data is view  # handed through, not copied
    assert first + bytes(data) + last == encode([*head, body, flag])
    # and the front decodes it, also when it arrives a byte at a time at the edges
    frame = first + bytes(data) + last
    dec = LinkDecoder("front")
    out = dec.feed(frame[:3]) + dec.feed(frame[3:7]) + dec.feed(frame[7:])
    assert out == [[Kind.EVENT, 2**40, Event.HTTP_RESPONSE_BODY, body, flag]]


def test_encode_with_data_refuses_a_head_that_breaks_the_fixarray() -> None:
    with pytest.raises(ValueError, match="13 elements"):
        encode_with_data(list(range(14)), b"x", True)


def test_frame_spanning_many_feeds_then_more_frames_in_the_same_feed() -> None:
    big = m.event(3, Event.HTTP_RESPONSE_BODY, b"b" * 100_000, True)
    small = [m.credit(3, 10), m.end(3, 0, True, "")]
    data = encode(big) + encode_many(small)
    dec = LinkDecoder("front")
    out: list[m.Message] = []
    step = 7_001  # the last piece completes the big frame and carries both small ones
    for pos in range(0, len(data), step):
        out += dec.feed(memoryview(data)[pos : pos + step])
    assert out == [big, *small]
    assert dec.buffered == 0
    dec.check_eof()


def test_extend_frame_appends_data_and_flag_without_copying_the_data() -> None:
    start = m.event(4, Event.HTTP_RESPONSE_START, 404, HEADERS, False)
    data = memoryview(b"not found" * 1000)
    first, same, last = extend_frame(encode(start), data, False)
    assert same is data
    assert first + bytes(same) + last == encode([*start, bytes(data), False])
    assert LinkDecoder("front").feed(first + bytes(same) + last) == [[*start, bytes(data), False]]
    with pytest.raises(ValueError, match="fixarray"):
        extend_frame(encode(list(range(14))), b"x", True)


@pytest.mark.parametrize(
    ("msg", "match"),
    [
        ([Kind.CREDITS, 0, []], "field 0"),
        ([Kind.CREDITS, 0, [1, 10, 2]], "field 0"),
        ([Kind.CREDITS, 0, [1, 0]], "field 0"),
        ([Kind.CREDITS, 0, [0, 10]], "field 0"),
        ([Kind.CREDITS, 0, [1, "10"]], "field 0"),
        ([Kind.CREDITS, 0, {1: 10}], "field 0"),
        ([Kind.CREDITS, 1, [1, 10]], "scope_id must be 0"),
    ],
)
def test_malformed_credits_are_refused_by_the_worker_side(msg: list[object], match: str) -> None:
    with pytest.raises(LinkError, match=match):
        LinkDecoder("worker").feed(packed(msg))


def test_credits_constructor_sends_a_lone_grant_as_a_plain_credit() -> None:
    assert m.credits({7: 100}) == [Kind.CREDIT, 7, 100]
    assert m.credits({7: 100, 2: 5}) == [Kind.CREDITS, 0, [7, 100, 2, 5]]


def test_abort_is_worker_to_front_only_and_carries_a_str() -> None:
    """ABORT (protocol 3): the app called pagi.connection.abort(detail)."""
    assert LinkDecoder("front").feed(encode(m.abort(4, "x"))) == [[Kind.ABORT, 4, "x"]]
    with pytest.raises(LinkError, match="unexpected message kind 14"):
        LinkDecoder("worker").feed(encode(m.abort(4, "x")))
    with pytest.raises(LinkError, match="ABORT: field 0"):
        LinkDecoder("front").feed(encode([Kind.ABORT, 4, b"bytes"]))
    with pytest.raises(LinkError, match="scope_id must be positive"):
        LinkDecoder("front").feed(encode([Kind.ABORT, 0, ""]))


def test_the_packer_in_use_writes_msgpack_byte_for_byte() -> None:
    """msgspec (the ``fast`` extra) and msgpack give the same frames: one wire format."""
    from pagi.protocol import codec

    for msg in [*sample_from_worker(), *sample_from_front()]:
        assert codec._pack(msg) == codec.msgpack_pack(msg)


_INT64 = st.integers(-(2**63), 2**63)  # msgpack's range (keys included)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**63), max_value=2**64 - 1)
        | st.floats(allow_nan=False)
        | st.text(max_size=300)
        | st.binary(max_size=300),
        lambda inner: (
            st.lists(inner, max_size=20)
            | st.dictionaries(
                st.text(max_size=10) | st.integers(-(2**63), 2**63), inner, max_size=10
            )
        ),
        max_leaves=40,
    )
)
def test_property_msgspec_and_msgpack_write_the_same_bytes(value: object) -> None:
    import msgspec  # the test extra has it; the codec falls back to msgpack without
    from pagi.protocol import codec

    assert msgspec.msgpack.encode(value) == codec.msgpack_pack(value)


def test_without_msgspec_the_codec_falls_back_to_msgpack(tmp_path: Path) -> None:
    """An install without the fast extra: same frames, from msgpack's packer."""
    blocker = tmp_path / "blocked"
    blocker.mkdir()
    (blocker / "msgspec.py").write_text("raise ImportError('not installed here')\n")
    code = (
        "from pagi.protocol import codec, messages as m\n"
        "from pagi.protocol.codec import LinkDecoder, encode\n"
        "msg = m.end(7, 0, True, '')\n"
        "assert LinkDecoder('front').feed(encode(msg)) == [msg]\n"
        "print(codec.PACKER)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(blocker)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "msgpack"


def test_extension_values_from_a_peer_re_encode_to_the_same_bytes() -> None:
    """The link defines no extension types, but a free-form value may hold one:
    whatever the decoder makes of it must encode back unchanged (found by the
    link fuzzer with msgspec's encoder, which writes msgpack's ExtType as an array)."""
    from pagi.protocol import codec

    value = {"t": msgpack.Timestamp(3, 4), "e": msgpack.ExtType(5, b"xy")}
    raw = codec.msgpack_pack(m.hello(1, value))
    frame = struct.pack(">I", len(raw)) + raw
    (msg,) = LinkDecoder("front").feed(frame)
    assert encode(msg) == frame
