"""WebSocket frames <-> message pieces for one server-side connection (sans-I/O).

:class:`WSCodec` wraps wsproto's :class:`~wsproto.frame_protocol.FrameProtocol`
(framing, unmasking, control-frame rules, fragmentation order, close-frame
parsing, incremental UTF-8 decoding of text) and adds the front's limits.
:meth:`WSCodec.receive` turns client bytes into a list of events:

* ``(DATA, piece, more)`` — a piece of a message as soon as its bytes arrive:
  ``str`` for text (decoded incrementally, so invalid UTF-8 fails at the
  byte that makes it invalid, even mid-fragment), ``bytes`` for binary.
  Pieces of one message have one type; the last has ``more=False``. A
  non-final piece is never empty.
* ``(PING, payload)`` / ``(PONG, payload)``.
* ``(CLOSE, code, reason)`` — the client's close frame (1005 without a code).
* ``(FAIL, code, reason)`` — the client broke the protocol; the connection
  must be failed with that close code (1002, 1007 or 1009) and ``reason``
  (the name the app sees in ``websocket.disconnect``).

Events before a ``CLOSE``/``FAIL`` in the same call are valid and must be
acted on first; nothing follows a ``CLOSE`` or ``FAIL`` (later bytes are
ignored).

Message size: a message's bytes (after inflation; UTF-8 bytes for text) are
counted as its pieces arrive; past ``max_size`` the codec fails with 1009
without waiting for the rest. A data frame whose *declared* length already
takes the message past ``max_size`` fails with 1009 as soon as its header
has arrived (a client cannot hold a connection by trickling an oversized
frame). For a compressed frame, whose inflated size its length does not
tell, the bound is ``max_size`` plus deflate's worst-case expansion
(:func:`compressed_bound`).

Fast path: most client traffic is small, complete, single-frame messages.
While wsproto holds nothing (no buffered bytes, no frame or message under
way) and no extension is in use, :meth:`WSCodec.receive` decodes such frames
itself (``FIN``, no RSV bits, text or binary, masked, a payload below 64 KiB
in its shortest length encoding, valid UTF-8 for text) and hands wsproto only
what follows the first frame it does not take. Anything unusual -- including
every violation -- therefore goes through wsproto, and both paths give the
same events for the same bytes (tests/unit/frontend/test_front_ws_codec.py checks it).
"""

from __future__ import annotations

from typing import Any, Final

from pagi.protocol.reasons import WS_FAILURES
from wsproto.extensions import Extension
from wsproto.frame_protocol import (
    CloseReason,
    FrameDecoder,
    FrameProtocol,
    Opcode,
    ParseFailed,
    RsvBits,
)

from .deflate import BoundedDeflate

DATA: Final = 0
PING: Final = 1
PONG: Final = 2
CLOSE: Final = 3
FAIL: Final = 4

#: Disconnect reasons for the close codes the front fails a connection with.
FAIL_REASONS: Final = {code: sent for code, (sent, _heard) in WS_FAILURES.items()}

_TEXT = Opcode.TEXT
_BINARY = Opcode.BINARY
_PING = Opcode.PING
_PONG = Opcode.PONG
_CLOSE = Opcode.CLOSE
_TOO_BIG = int(CloseReason.MESSAGE_TOO_BIG)

Event = tuple[Any, ...]


def fail_event(code: int) -> Event:
    return (FAIL, code, FAIL_REASONS.get(code, "protocol_error"))


def compressed_bound(max_size: int) -> int:
    """The most bytes a deflate stream of ``max_size`` inflated bytes can
    take on the wire (stored blocks: 5 bytes per up to 65535, plus a final
    empty block; rounded up generously)."""
    return max_size + (max_size >> 12) + 64


_NO_RSV = RsvBits(False, False, False)


class _SizeGuard(Extension):
    """Not an extension on the wire: wsproto's hook at each frame header,
    used to refuse a frame by its declared length (1009) before any of its
    payload is read. Claims no RSV bit; passes payloads through."""

    name = "x-pagi-size-guard"

    def __init__(self, codec: WSCodec) -> None:
        self._codec = codec

    def enabled(self) -> bool:
        return True

    def offer(self) -> bool:  # never negotiated
        return False

    def frame_inbound_header(
        self,
        proto: FrameDecoder | FrameProtocol,
        opcode: Opcode,
        rsv: RsvBits,
        payload_length: int,
    ) -> CloseReason | RsvBits:
        if not opcode.iscontrol() and self._codec.declared_too_big(opcode, payload_length):
            return CloseReason.MESSAGE_TOO_BIG
        return _NO_RSV


class WSCodec:
    """The frame layer of one accepted WebSocket (server side)."""

    __slots__ = (
        "_decoder",
        "_done",
        "_messages",
        "_proto",
        "_size",
        "deflate",
        "max_size",
    )

    def __init__(self, max_size: int, deflate: BoundedDeflate | None = None) -> None:
        self.max_size = max_size
        self.deflate = deflate
        guard = _SizeGuard(self)
        self._proto = proto = FrameProtocol(
            client=False, extensions=[deflate, guard] if deflate else [guard]
        )
        # wsproto's frame and message layers, looked at to know when it holds
        # nothing (the fast path may then run); None disables the fast path.
        self._decoder: Any = None if deflate else getattr(proto, "_frame_decoder", None)
        self._messages: Any = getattr(proto, "_message_decoder", None)
        self._size = 0  # bytes of the message being received so far
        self._done = False  # a CLOSE or FAIL was returned: ignore everything after

    def receive(self, data: bytes) -> list[Event]:
        """Events completed by ``data`` (see the module docstring)."""
        if self._done:
            return []
        events: list[Event] = []
        decoder = self._decoder
        if (
            decoder is not None
            and decoder.header is None
            and not len(decoder.buffer)
            and self._messages.opcode is None
        ):
            taken = self._fast(data, events)
            if taken == len(data):
                return events
            if taken:
                data = data[taken:]
        return self._slow(data, events)

    def _fast(self, data: bytes, events: list[Event]) -> int:
        """Decode the plain single-frame messages at the start of ``data``
        into ``events``; return how many bytes they took."""
        end = len(data)
        pos = 0
        max_size = self.max_size
        while end - pos >= 6:
            first = data[pos]
            if first != 0x81 and first != 0x82:
                break
            n = data[pos + 1] ^ 0x80  # the mask bit must be set
            if n < 126:
                start = pos + 6
            elif n == 126 and end - pos >= 8:
                n = (data[pos + 2] << 8) | data[pos + 3]
                if n < 126:
                    break  # not the shortest encoding: wsproto fails it
                start = pos + 8
            else:
                break  # unmasked, 64-bit length, or an incomplete header
            stop = start + n
            if stop > end or n > max_size:
                break
            key = data[start - 4 : start]
            if n:
                repeat = (key * ((n >> 2) + 1))[:n]
                payload = (
                    int.from_bytes(data[start:stop], "little") ^ int.from_bytes(repeat, "little")
                ).to_bytes(n, "little")
            else:
                payload = b""
            if first == 0x81:
                try:
                    events.append((DATA, payload.decode("utf-8"), False))
                except UnicodeDecodeError:
                    break  # wsproto finds the bad byte and fails with 1007
            else:
                events.append((DATA, payload, False))
            pos = stop
        return pos

    def _slow(self, data: bytes, events: list[Event]) -> list[Event]:
        proto = self._proto
        proto.receive_bytes(data)
        append = events.append
        max_size = self.max_size
        try:
            for frame in proto.received_frames():
                opcode = frame.opcode
                if opcode is _TEXT or opcode is _BINARY:
                    payload = frame.payload
                    more = not frame.message_finished
                    if payload:
                        if opcode is _TEXT:
                            n = len(payload) if payload.isascii() else len(payload.encode())  # type: ignore[union-attr]
                        else:
                            n = len(payload)
                        size = self._size + n
                        if size > max_size:
                            self._done = True
                            append(fail_event(_TOO_BIG))
                            return events
                        self._size = 0 if not more else size
                        append((DATA, payload, more))
                    elif not more:
                        self._size = 0
                        append((DATA, payload, False))
                elif opcode is _PING:
                    append((PING, frame.payload))
                elif opcode is _PONG:
                    append((PONG, frame.payload))
                elif opcode is _CLOSE:
                    code, reason = frame.payload  # type: ignore[misc,str-unpack]
                    self._done = True
                    append((CLOSE, int(code), reason))
                    return events
        except ParseFailed as exc:
            self._done = True
            append(fail_event(int(exc.code)))
        return events

    def declared_too_big(self, opcode: Opcode, length: int) -> bool:
        """A data frame header declares more than its message may grow by
        (called by :class:`_SizeGuard` as wsproto parses each header)."""
        messages = self._messages
        in_message = messages is not None and messages.opcode is not None
        if (opcode is Opcode.CONTINUATION) != in_message:
            return False  # out of place: wsproto fails it with 1002
        deflate = self.deflate
        if deflate is not None and deflate.message_compressed:
            return length > compressed_bound(self.max_size)
        return self._size + length > self.max_size

    # --- outbound frames ------------------------------------------------------

    def message(self, data: str | bytes, more: bool) -> bytes | bytearray:
        """A data frame; ``more`` leaves the message open for continuation frames."""
        if more or self.deflate is not None or self._proto._outbound_opcode is not None:
            return self._proto.send_data(data, not more)
        # A whole message in one frame, nothing in progress, no compression:
        # the common case, framed here (about a tenth of wsproto's cost).
        if isinstance(data, str):
            payload = data.encode("utf-8")
            first = 0x81  # FIN + text
        else:
            payload = data
            first = 0x82  # FIN + binary
        n = len(payload)
        if n < 126:
            return bytes((first, n)) + payload
        if n < 65536:
            return bytes((first, 126)) + n.to_bytes(2, "big") + payload
        return bytes((first, 127)) + n.to_bytes(8, "big") + payload

    def ping(self, payload: bytes = b"") -> bytes:
        return bytes(self._proto.ping(payload))

    def pong(self, payload: bytes) -> bytes:
        return bytes(self._proto.pong(payload))

    def close(self, code: int | None, reason: str = "") -> bytes:
        """A close frame; ``None`` (or 1005) sends one without a code."""
        if code is None or code == 1005:
            return bytes(self._proto.close(None))
        return bytes(self._proto.close(code, reason))
