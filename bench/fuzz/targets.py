"""Fuzz targets: each takes one input (bytes) and raises on a bug.

A target raises :class:`AssertionError` for a divergence or a broken
invariant; any other exception escaping it is a crash. Expected rejections
(``ParseError``, ``LinkError``, a WebSocket FAIL event) are not bugs.

* ``link``: the worker-link codec. Arbitrary bytes into a
  :class:`~pagi.protocol.LinkDecoder` (either side) raise only ``LinkError``;
  what decodes re-encodes to the same frames; cutting the input anywhere
  gives the same messages.
* ``http1``: both HTTP/1.1 parser backends on the same bytes (fed whole, and
  cut at two points taken from the input) give the same events or the same
  status; every head they accept obeys the request checks (known method,
  no fragment, valid Host, one framing, no control characters).
* ``ws``: the WebSocket frame decoder. Its fast path and wsproto's path
  give the same events; nothing follows CLOSE/FAIL; no message passes the
  size limit; cutting the input does not change the messages.
* ``h2``: frame sequences into the HTTP/2 connection core (``h2_target.py``).
* ``deflate``: permessage-deflate. Arbitrary compressed payloads inflate to
  at most the limit or fail cleanly; any message the front sends comes back
  unchanged through a standard client (wsproto), compressed or not.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from typing import Any

from pagi.frontend.http1.parser import (
    Body,
    ParseError,
    ParserEvent,
    ParserLimits,
    RequestHead,
    make_parser,
)
from pagi.frontend.http1.request_line import KNOWN_METHODS
from pagi.frontend.websocket.codec import CLOSE, DATA, FAIL, WSCodec
from pagi.frontend.websocket.deflate import negotiate
from pagi.protocol import LinkDecoder, LinkError, encode
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import FrameProtocol, Opcode

from .h2_target import fuzz_h2

Target = Callable[[bytes], None]

# --- link codec ------------------------------------------------------------------


def fuzz_link(data: bytes) -> None:
    side = "front" if data[:1] < b"\x80" else "worker"
    messages = _decode_all(side, data)
    if messages is None:
        return
    again = _decode_all(side, b"".join(encode(msg) for msg in messages))
    assert again == messages, "re-encoded messages decode differently"
    cut = len(data) // 2
    decoder = LinkDecoder(side)
    assert decoder.feed(data[:cut]) + decoder.feed(data[cut:]) == messages


def _decode_all(side: str, data: bytes) -> list[Any] | None:
    decoder = LinkDecoder(side)
    try:
        messages: list[Any] = decoder.feed(data)
        decoder.check_eof()
    except LinkError:
        return None
    return messages


# --- HTTP/1.1 parsers ------------------------------------------------------------

_LIMITS = ParserLimits()
_CTL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_HOST = re.compile(rb"[\x21-\x7e]*")


def fuzz_http1(data: bytes) -> None:
    whole = {kind: _outcome(kind, [data]) for kind in ("h11", "httptools")}
    assert whole["h11"] == whole["httptools"], f"backends disagree: {whole}"
    if isinstance(whole["h11"], list):
        for event in whole["h11"]:
            if isinstance(event, RequestHead):
                _check_head(event)
        # However the bytes are cut, an accepted stream gives the same events.
        a, b = sorted(x % (len(data) + 1) for x in data[:2]) if len(data) >= 2 else (0, 0)
        pieces = [data[:a], data[a:b], data[b:]]
        for kind in ("h11", "httptools"):
            assert _outcome(kind, pieces) == whole[kind], f"{kind} depends on the cuts"


def _outcome(kind: str, pieces: list[bytes]) -> list[ParserEvent] | int:
    parser = make_parser(kind, _LIMITS)
    events: list[ParserEvent] = []
    try:
        for piece in pieces:
            events += parser.feed(piece)
        events += parser.feed_eof()
    except ParseError as exc:
        return int(exc.status)
    merged: list[ParserEvent] = []
    for event in events:
        if isinstance(event, Body) and merged and isinstance(merged[-1], Body):
            merged[-1] = Body(merged[-1].data + event.data)
        else:
            merged.append(event)
    return merged


def _check_head(head: RequestHead) -> None:
    """What the request checks promise about every head they let through."""
    assert head.method.encode() in KNOWN_METHODS, head.method
    assert head.http_version in ("1.0", "1.1")
    assert b"#" not in head.target and not _CTL.search(head.target)
    assert not (head.chunked and head.content_length is not None)
    hosts = [value for name, value in head.headers if name == b"host"]
    assert len(hosts) <= 1 and (hosts or head.http_version == "1.0")
    for name, value in head.headers:
        assert name == name.lower() and name and not _CTL.search(value), (name, value)
        assert value == value.strip(b" \t")
    for value in hosts:
        assert _HOST.fullmatch(value) and b"@" not in value and b"/" not in value


# --- WebSocket frames --------------------------------------------------------------

_MAX = 1000


def fuzz_ws(data: bytes) -> None:
    fast = WSCodec(_MAX)
    slow = WSCodec(_MAX)
    slow._decoder = None  # wsproto only
    events = fast.receive(data)
    assert _messages(events) == _messages(slow.receive(data)), "fast path diverges"
    _check_events(events)
    cut = WSCodec(_MAX)
    half = len(data) // 2
    pieces = cut.receive(data[:half]) + cut.receive(data[half:])
    assert _messages(pieces) == _messages(events), "cutting changes the messages"


def _messages(events: list[Any]) -> list[Any]:
    """The events with each whole message's pieces joined (cuts move piece
    borders)."""
    out: list[Any] = []
    open_piece: Any = None
    for event in events:
        if event[0] == DATA:
            open_piece = event[1] if open_piece is None else open_piece + event[1]
            if not event[2]:
                out.append((DATA, open_piece))
                open_piece = None
        else:
            out.append(event)
    return out  # an unfinished message's pieces depend on the cuts: left out


def _check_events(events: list[Any]) -> None:
    for i, event in enumerate(events):
        if event[0] in (CLOSE, FAIL):
            assert i == len(events) - 1, "an event follows CLOSE/FAIL"
    for event in _messages(events):
        if event[0] == DATA:
            size = len(event[1].encode()) if isinstance(event[1], str) else len(event[1])
            assert size <= _MAX, "a message passed the size limit"


# --- permessage-deflate ---------------------------------------------------------------


def fuzz_deflate(data: bytes) -> None:
    _response, deflate = negotiate([b"permessage-deflate"], _MAX) or (b"", None)
    assert deflate is not None
    codec = WSCodec(_MAX, deflate)
    client = FrameProtocol(True, [])
    frame = bytes(client._serialize_frame(Opcode.BINARY, data))
    frame = bytes([frame[0] | 0x40]) + frame[1:]  # RSV1: compressed
    events = codec.receive(frame)
    _check_events(events)
    if events and events[-1][0] == FAIL:
        assert events[-1][1] in (1007, 1009), events[-1]
    else:  # it inflated within the limit: exactly what zlib makes of it
        inflater = zlib.decompressobj(-15)
        expected = inflater.decompress(data + b"\x00\x00\xff\xff")
        assert _messages(events) == [(DATA, expected)], "inflated differently from zlib"
    _round_trip(data)


def _round_trip(data: bytes) -> None:
    """The front's outbound messages decode to themselves in a standard client."""
    client_ext = PerMessageDeflate()
    offer = client_ext.offer()
    negotiated = negotiate([b"permessage-deflate; " + str(offer).encode()], 1 << 24)
    assert negotiated is not None
    response, deflate = negotiated
    client_ext.finalize(response.decode().partition(";")[2])
    codec = WSCodec(1 << 24, deflate)
    messages = [data, data[::-1] * 3, data[: len(data) // 2]]
    wire = b"".join(bytes(codec.message(message, False)) for message in messages)
    receiver = FrameProtocol(True, [client_ext])
    receiver.receive_bytes(wire)
    assert [f.payload for f in receiver.received_frames()] == messages


TARGETS: dict[str, Target] = {
    "link": fuzz_link,
    "http1": fuzz_http1,
    "ws": fuzz_ws,
    "deflate": fuzz_deflate,
    "h2": fuzz_h2,
}
