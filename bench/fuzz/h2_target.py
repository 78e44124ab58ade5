"""The ``h2`` fuzz target: frame sequences into the front's HTTP/2 connection core.

Sans-I/O, no sockets: one :class:`~pagi.frontend.http2.core.H2Core` (pagi's
own engine) per input (with small limits, so every cap is in reach), fed in
pieces, its listener calls answered the way the connection shell answers (``http2/connection.py``,
``http2/opening.py``): a request's header block goes through
:func:`~pagi.frontend.http2.request.read_request` (a malformed one gets
RST_STREAM PROTOCOL_ERROR through the shell's own
:func:`~pagi.frontend.http2.opening.refuse`), an accepted one a small response through
:class:`~pagi.frontend.http2.output.StreamOutput` within the windows.

The input is read either as raw bytes after the client preface (first byte
odd), or structure-aware (first byte even): an empty SETTINGS frame, then a
list of frames, each built from a few input bytes (type, flags, stream id,
payload), with HEADERS blocks HPACK-encoded from request templates (valid
ones and ones RFC 9113 calls malformed), so the fuzzer spends its time past the framing layer.

What must hold (an :class:`AssertionError` otherwise; any other exception
escaping is a crash):

* :meth:`H2Core.receive` raises nothing, whatever the client sent;
  ``read_request`` raises only ``MalformedRequest``; refusing or answering a
  stream raises nothing the shell does not catch;
* a connection error (:attr:`H2Core.error` set) always puts a GOAWAY with
  that error code on the wire, and nothing is read (no listener call) after it;
* nothing grows without bound: request DATA accepted without being consumed
  stays within the connection window; open client streams within
  SETTINGS_MAX_CONCURRENT_STREAMS; each header list within
  SETTINGS_MAX_HEADER_LIST_SIZE; the bytes written stay within a small
  multiple of the bytes read.
"""

from __future__ import annotations

import hpack
from pagi.frontend.http2.core import PREFACE, H2Core
from pagi.frontend.http2.frames import PROTOCOL_ERROR, REFUSED_STREAM
from pagi.frontend.http2.limits import H2Limits
from pagi.frontend.http2.opening import refuse
from pagi.frontend.http2.output import StreamOutput
from pagi.frontend.http2.request import MalformedRequest, read_request

#: Small limits: every flood cap and the stream cap can be crossed by one input.
LIMITS = H2Limits(
    max_concurrent_streams=4,
    max_header_list_size=1024,
    stream_window=4096,
    connection_window=65535,
    max_resets=6,
    max_settings=6,
    max_pings=6,
    max_empty_data=6,
)

_GET = [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/"), (b":authority", b"a")]
#: Header lists for HEADERS frames: requests h2/pagi must take, and malformed ones.
TEMPLATES: list[list[tuple[bytes, bytes]]] = [
    _GET,
    [*_GET, (b"cookie", b"a=1"), (b"cookie", b"b=2"), (b"accept", b"text/event-stream")],
    [(b":method", b"POST"), *_GET[1:], (b"content-length", b"5")],
    [(b":method", b"POST"), *_GET[1:], (b"content-length", b"x")],
    [(b":method", b"CONNECT"), (b":authority", b"a:443")],
    [(b":method", b"CONNECT"), (b":protocol", b"websocket"), *_GET[1:]],
    [(b":method", b"G T"), *_GET[1:]],
    [*_GET, (b"Upper", b"x")],
    [*_GET, (b"connection", b"close")],
    [*_GET, (b"te", b"gzip")],
    [(b"x", b"y"), *_GET],
    [*_GET, (b":method", b"GET")],
    [(b":method", b"GET"), (b":scheme", b"https")],
    [*_GET, (b"x", b"\x00")],
    [*_GET, (b"x", b"y" * 1100)],
    [(b"grpc-status", b"0")],  # trailers
]

# RFC 9113 frame types: DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS,
# PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION (and unknown 10+).
_HEADERS, _CONTINUATION = 0x1, 0x9


def frame(kind: int, flags: int, sid: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + sid.to_bytes(4, "big") + payload


class _Reader:
    """The fuzz input, consumed a byte or a slice at a time (zeros past the end)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def byte(self) -> int:
        value = self.data[self.at] if self.at < len(self.data) else 0
        self.at += 1
        return value

    def take(self, n: int) -> bytes:
        piece = self.data[self.at : self.at + n]
        self.at += n
        return piece

    @property
    def done(self) -> bool:
        return self.at >= len(self.data)


def build_wire(data: bytes) -> bytes:
    """The bytes a client sends for ``data`` (see the module docstring)."""
    if data[:1] and data[0] & 1:
        return PREFACE + data[1:]
    reader = _Reader(data[1:])
    encoder = hpack.Encoder()
    wire = bytearray(PREFACE + frame(0x4, 0, 0, b""))  # the preface ends with SETTINGS
    while not reader.done and len(wire) < 1 << 16:
        kind = reader.byte() % 12
        flags = reader.byte()
        sid = reader.byte() % 40
        size = reader.byte()
        if kind in (_HEADERS, _CONTINUATION) and size & 0x80:
            block = encoder.encode(TEMPLATES[size % len(TEMPLATES)])
            cut = reader.byte() % (len(block) + 1) if flags & 0x40 else len(block)
            if kind == _HEADERS and flags & 0x20:
                block = b"\x00\x00\x00\x03\x10" + block  # the PRIORITY flag's fields
            flags = (flags & ~0x44) | (0x4 if cut == len(block) else 0)  # END_HEADERS
            wire += frame(kind, flags, sid, block[:cut])
            if cut < len(block):  # the rest in a CONTINUATION frame
                wire += frame(_CONTINUATION, 0x4, sid, block[cut:])
            continue
        # 0xFF: a frame past SETTINGS_MAX_FRAME_SIZE
        payload = bytes(LIMITS.max_frame_size + 1) if size == 0xFF else reader.take(size % 40)
        wire += frame(kind, flags, sid, payload)
    return bytes(wire)


def _pieces(wire: bytes, data: bytes) -> list[bytes]:
    """``wire`` cut at up to three points taken from the input."""
    cuts = sorted({b * len(wire) // 256 for b in data[-3:]} | {len(wire)})
    out, start = [], 0
    for cut in cuts:
        out.append(wire[start:cut])
        start = cut
    return out


def _goaways(wire: bytes) -> list[int]:
    """Error codes of the GOAWAY frames in the server's output."""
    codes, at = [], 0
    while at + 9 <= len(wire):
        length = int.from_bytes(wire[at : at + 3], "big")
        if wire[at + 3] == 0x7 and length >= 8:
            codes.append(int.from_bytes(wire[at + 13 : at + 17], "big"))
        at += 9 + length
    return codes


class _Shell:
    """What the connection shell does with the engine's calls, without I/O."""

    def __init__(self) -> None:
        self.now = 0.0
        self.core = H2Core(LIMITS, lambda: self.now, self)
        self.out = bytearray(self.core.outbound())
        self.unconsumed = 0
        self.outputs: dict[int, StreamOutput] = {}
        self.calls_after_error = 0

    def feed(self, piece: bytes) -> None:
        core = self.core
        self.now += 0.001
        core.receive(piece)
        assert self.calls_after_error == 0, "listener calls after a connection error"
        if core.error is not None:  # the shell ends every stream
            self.outputs.clear()
        sender = core.out
        for sid, output in list(self.outputs.items()):
            if sender.can_send(sid):
                output.flush(sender, core.send_window(sid), sender.max_outbound_frame_size)
            else:
                output.close()  # reset (as writer.push does)
            if output.complete:
                del self.outputs[sid]
        self.out += core.outbound()
        self._check()

    def _called(self) -> None:
        if self.core.error is not None:
            self.calls_after_error += 1

    # --- H2Listener ------------------------------------------------------------------------

    def on_request(self, sid: int, fields: list[tuple[bytes, bytes]], ended: bool) -> None:
        self._called()
        core = self.core
        size = sum(len(n) + len(v) + 32 for n, v in fields)
        assert size <= LIMITS.max_header_list_size, f"a {size}-byte header list got through"
        if core.last_stream is not None and sid > core.last_stream:
            refuse(core, sid, REFUSED_STREAM)
            return
        try:
            facts = read_request(fields)
        except MalformedRequest:
            refuse(core, sid, PROTOCOL_ERROR)
            return
        output = StreamOutput(sid, facts.method == "HEAD")
        output.start([(b":status", b"200")], trailers=False)
        output.body(b"ok", more=False)
        self.outputs[sid] = output

    def on_data(self, sid: int, data: bytes, ended: bool) -> None:
        self._called()
        self.unconsumed += len(data)  # never consumed: the windows must hold it

    def on_trailers(self, sid: int, fields: list[tuple[bytes, bytes]]) -> None:
        self._called()

    def on_reset(self, sid: int, code: int) -> None:
        self._called()
        output = self.outputs.pop(sid, None)
        if output is not None:
            output.close()

    def on_window(self, sid: int) -> None:
        self._called()

    def on_goaway(self, code: int, last_stream: int) -> None:
        self._called()

    def _check(self) -> None:
        core = self.core
        if core.error is not None:
            code = core.error[0]
            assert code in _goaways(bytes(self.out)), f"error {core.error} without its GOAWAY"
        assert self.unconsumed <= LIMITS.connection_window, "DATA beyond the window"
        assert len(core.engine.streams) <= LIMITS.max_concurrent_streams


def fuzz_h2(data: bytes) -> None:
    wire = build_wire(data)
    shell = _Shell()
    for piece in _pieces(wire, data):
        shell.feed(piece)
    bound = 4 * len(wire) + 1024
    assert len(shell.out) <= bound, f"{len(shell.out)} bytes written for {len(wire)} read"
