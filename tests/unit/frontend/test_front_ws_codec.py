"""The front's WebSocket frame codec: events and size counting, its fast path
against wsproto, declared frame lengths and per-message compression.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pagi.frontend.websocket.codec import CLOSE, DATA, FAIL, PING, WSCodec
from pagi.frontend.websocket.deflate import negotiate
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import FrameProtocol

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
