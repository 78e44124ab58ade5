"""Sans-I/O framing of the worker link: bytes in, messages out, and back.

A frame is a 4-byte big-endian unsigned payload length followed by exactly that
many bytes holding one msgpack value (packed with ``use_bin_type=True``,
unpacked with ``raw=False``, so ``bytes`` and ``str`` keep their identity).

Invariants of :class:`LinkDecoder`:

* a length prefix larger than ``max_frame_size`` raises before any of the
  payload is buffered, so a hostile peer cannot make the decoder allocate;
* buffered bytes never exceed ``max_frame_size + LENGTH_PREFIX_SIZE`` plus one
  ``feed`` call's worth of data;
* every malformed input raises :class:`LinkError` and leaves the decoder
  unusable (the link is to be closed); it never returns a half message.
"""

from collections.abc import Callable, Iterable
from struct import Struct
from typing import Any

import msgpack

from .errors import LinkError
from .kinds import LENGTH_PREFIX_SIZE
from .messages import (
    EVENTS_FROM_FRONT,
    EVENTS_FROM_WORKER,
    FROM_FRONT,
    FROM_WORKER,
    Message,
    validate,
)

#: Default largest payload accepted: big enough for any header block and any
#: flow-control window, small enough that one frame cannot exhaust memory.
DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024

_LENGTH = Struct(">I")
_pack_length = _LENGTH.pack

# One packer for the whole process: ``msgpack.packb`` builds a new Packer (and
# its buffer) per call, which costs about three times the packing itself on
# the per-request path. With ``autoreset`` each ``pack`` returns its own bytes
# and leaves the packer empty, also when it raises; the event loop is single
# threaded, so nothing can interleave with a call.
msgpack_pack: Callable[[Any], bytes] = msgpack.Packer(use_bin_type=True, autoreset=True).pack


def _fastest_pack() -> tuple[str, Callable[[Any], bytes], Callable[[int, bytes], Any]]:
    """msgspec's msgpack encoder when installed (the ``fast`` extra), else msgpack's.

    Both write the same bytes for every link message (tests compare them): the
    wire format is msgpack either way. msgspec encodes the link's message mix
    in about a third of the time (docs/performance.md); decoding stays with
    msgpack, where the two measured the same.

    The link defines no msgpack extension types, but a peer may send one in a
    free-form value (HELLO's info, a scope's extras); what the decoder makes of
    it must re-encode to the same bytes. msgpack's ``ExtType`` is a named tuple,
    which msgspec would write as an array, so with msgspec extensions decode
    to ``msgspec.msgpack.Ext`` (third item returned: the decoder's
    ``ext_hook``) and the timestamp type -1, which msgpack decodes itself, is
    written back as the extension it came as.
    """
    try:
        from msgspec.msgpack import Encoder, Ext
    except ImportError:
        return "msgpack", msgpack_pack, msgpack.ExtType

    def timestamp_back(value: Any) -> Any:
        if isinstance(value, msgpack.Timestamp):
            return Ext(-1, value.to_bytes())
        raise TypeError(f"cannot encode {type(value).__name__} on the link")

    return "msgspec", Encoder(enc_hook=timestamp_back).encode, Ext


PACKER, _pack, _ext_hook = _fastest_pack()


def encode(msg: Message) -> bytes:
    """One message as one complete frame."""
    payload: bytes = _pack(msg)
    return _pack_length(len(payload)) + payload


#: Bodies at least this long are framed by :func:`encode_with_data` without
#: being copied; shorter ones are cheaper to pack into one buffer.
ZERO_COPY_MIN = 4096


def encode_with_data(
    head: Message, data: bytes | memoryview, flag: bool
) -> tuple[bytes, bytes | memoryview, bytes]:
    """The frame of the message ``head + [data, flag]`` as three buffers whose
    concatenation is exactly what :func:`encode` would give.

    ``data`` (packed as msgpack ``bin``) is returned as is, not copied, so a
    large body goes from the app's buffer to the socket with one
    scatter-gather write. ``head`` must have at most 13 elements (the whole
    message stays a msgpack fixarray).
    """
    if len(head) > 13:
        raise ValueError("encode_with_data: head has more than 13 elements")
    return _with_data(_pack(head), data, flag)


def extend_frame(
    frame: bytes, data: bytes | memoryview, flag: bool
) -> tuple[bytes, bytes | memoryview, bytes]:
    """The frame of ``frame``'s message with ``data`` and ``flag`` appended, as
    three buffers (see :func:`encode_with_data`; ``data`` is not copied).

    ``frame`` must be a complete frame from :func:`encode` whose message has
    at most 13 elements.
    """
    first_byte = frame[LENGTH_PREFIX_SIZE]
    if first_byte & 0xF0 != 0x90 or first_byte & 0x0F > 13:
        raise ValueError("extend_frame: the message is not a fixarray of at most 13 elements")
    return _with_data(frame[LENGTH_PREFIX_SIZE:], data, flag)


def _with_data(
    packed: bytes, data: bytes | memoryview, flag: bool
) -> tuple[bytes, bytes | memoryview, bytes]:
    """``packed`` (a msgpack fixarray of at most 13 elements, without length
    prefix) grown by ``data`` and ``flag``, framed as three buffers."""
    size = len(data)
    bin_head = _bin_head(size)
    payload = len(packed) + len(bin_head) + size + 1
    first = _pack_length(payload) + bytes((packed[0] + 2,)) + packed[1:] + bin_head
    return first, data, _TRUE if flag else _FALSE


def _bin_head(size: int) -> bytes:
    """The msgpack ``bin`` header for ``size`` bytes."""
    if size <= 0xFF:
        return bytes((0xC4, size))
    if size <= 0xFFFF:
        return b"\xc5" + size.to_bytes(2, "big")
    return b"\xc6" + size.to_bytes(4, "big")


_TRUE = b"\xc3"
_FALSE = b"\xc2"


def encode_many(msgs: Iterable[Message]) -> bytes:
    """Several messages as consecutive frames, for one coalesced write."""
    return b"".join(encode(m) for m in msgs)


# The validator's sets as plain ints (an int looked up among IntEnum members
# takes the slower comparison path of the enum type).
_INT_FROM_WORKER = frozenset(map(int, FROM_WORKER))
_INT_EVENTS_FROM_WORKER = frozenset(map(int, EVENTS_FROM_WORKER))
_INT_FROM_FRONT = frozenset(map(int, FROM_FRONT))
_INT_EVENTS_FROM_FRONT = frozenset(map(int, EVENTS_FROM_FRONT))


class LinkDecoder:
    """Turns a byte stream from one peer into validated messages.

    ``side`` is the side doing the decoding: ``"front"`` accepts what workers
    may send, ``"worker"`` what the front may send.
    """

    __slots__ = ("_buffer", "_closed", "_events", "_kinds", "max_frame_size")

    def __init__(self, side: str, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        if side == "front":
            self._kinds: frozenset[int] = _INT_FROM_WORKER
            self._events: frozenset[int] = _INT_EVENTS_FROM_WORKER
        elif side == "worker":
            self._kinds = _INT_FROM_FRONT
            self._events = _INT_EVENTS_FROM_FRONT
        else:
            raise ValueError(f"side must be 'front' or 'worker', not {side!r}")
        self.max_frame_size = max_frame_size
        self._buffer = bytearray()
        self._closed = False

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buffer)

    def feed(self, data: bytes | bytearray | memoryview) -> list[Message]:
        """Add received bytes; return every message they complete, in order.

        ``data`` is only read during the call (what stays incomplete is
        copied), so the caller may reuse its receive buffer afterwards.
        """
        if self._closed:
            raise LinkError("decoder already failed; the link must be closed")
        out: list[Message] = []
        pos = 0
        end = len(data)
        try:
            with memoryview(data) as view:
                if self._buffer:
                    # Complete the frame already begun, copying only the bytes
                    # it lacks; everything after it is parsed where it lies.
                    pos = self._complete_buffered(view, out)
                    if pos < 0:
                        return out
                limit = self.max_frame_size
                while end - pos >= LENGTH_PREFIX_SIZE:
                    (size,) = _LENGTH.unpack_from(view, pos)
                    if size > limit or size == 0:
                        self._check_size(size)  # raises
                    start = pos + LENGTH_PREFIX_SIZE
                    if end - start < size:
                        break
                    out.append(self._decode_payload(view[start : start + size]))
                    pos = start + size
                if pos < end:
                    self._buffer += view[pos:]
        except LinkError:
            self._closed = True
            raise
        return out

    def _complete_buffered(self, view: memoryview, out: list[Message]) -> int:
        """Feed the start of ``view`` to the partial frame in ``_buffer``.

        Returns the position in ``view`` after the completed frame (whose
        message is appended to ``out``), or -1 if ``view`` ran out first (all
        of it is then buffered).
        """
        buf = self._buffer
        pos = 0
        end = len(view)
        if len(buf) < LENGTH_PREFIX_SIZE:
            take = min(LENGTH_PREFIX_SIZE - len(buf), end)
            buf += view[:take]
            pos = take
            if len(buf) < LENGTH_PREFIX_SIZE:
                return -1
        size: int = _LENGTH.unpack_from(buf, 0)[0]
        self._check_size(size)
        missing = LENGTH_PREFIX_SIZE + size - len(buf)
        if end - pos < missing:
            buf += view[pos:]
            return -1
        buf += view[pos : pos + missing]
        with memoryview(buf) as frame:
            message = self._decode_payload(frame[LENGTH_PREFIX_SIZE:])
        buf.clear()
        out.append(message)
        return pos + missing

    def _check_size(self, size: int) -> None:
        if size > self.max_frame_size:
            raise LinkError(f"frame of {size} bytes exceeds the maximum of {self.max_frame_size}")
        if size == 0:
            raise LinkError("empty frame")

    def _decode_payload(self, payload: memoryview) -> Message:
        try:
            value: Any = msgpack.unpackb(
                payload, raw=False, use_list=True, strict_map_key=False, ext_hook=_ext_hook
            )
        except Exception as exc:  # msgpack raises several unrelated types
            raise LinkError(f"undecodable msgpack payload: {exc}") from None
        return validate(value, self._kinds, self._events)

    def check_eof(self) -> None:
        """Call at end of stream: raise if it cut a frame short."""
        if self._buffer:
            raise LinkError(f"connection closed inside a frame ({len(self._buffer)} bytes pending)")
