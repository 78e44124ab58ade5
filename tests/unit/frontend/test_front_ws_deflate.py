"""permessage-deflate in the front: extension parsing, negotiation, compressed
round trips and bounded inflation.
"""

from __future__ import annotations

import zlib

import pytest
from pagi.frontend.websocket.codec import DATA, FAIL, WSCodec
from pagi.frontend.websocket.deflate import negotiate, parse_extensions
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import FrameProtocol, Opcode

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
