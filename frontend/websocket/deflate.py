"""permessage-deflate (RFC 7692) for the front: negotiation and a bounded codec.

:func:`negotiate` picks the first acceptable ``permessage-deflate`` offer of
the client's ``Sec-WebSocket-Extensions`` and returns the response value with
a :class:`BoundedDeflate` (a wsproto :class:`~wsproto.extensions.Extension`
that :class:`wsproto.frame_protocol.FrameProtocol` drives).

Choices (the server's side of RFC 7692 section 7):

* An offer with an unknown, repeated or out-of-range parameter is declined and
  the next offer is tried; ``server_max_window_bits=8`` is declined too
  (zlib cannot compress raw deflate with a 256-byte window).
* ``server_no_context_takeover`` and ``client_no_context_takeover`` are
  accepted when offered. With the latter the inflater is dropped after each
  message, so an idle connection holds no zlib state for its input.
* The server compresses with at most a 4 KiB window (``server_max_window_bits``
  12, or less when the client asks for less) and zlib ``memLevel`` 5: about
  32 KiB of deflate state per connection that sends compressed messages,
  instead of zlib's 256 KiB default. A smaller window than announced needs no
  announcement: any inflater decodes it.
* The client's messages are inflated with a 32 KiB window (whatever it uses
  is at most that), and **never beyond the message size limit**: each call to
  zlib asks for at most the bytes the message may still grow by plus one, so
  a small compressed frame that would inflate past ``max_size`` fails the
  connection with 1009 after allocating at most ``max_size + 1`` bytes.
* **Each outgoing message chooses** (RFC 7692 section 6: RSV1 is per
  message). One that deflate does not shrink -- random or already compressed
  data -- goes out uncompressed. A message of more than
  :data:`SAMPLE_SIZE` bytes is judged by a trial compression of its first
  :data:`SAMPLE_SIZE` bytes (so an incompressible megabyte costs one sample,
  not a full compression); any message whose compressed form turns out no
  smaller is sent as is. The first piece of a message sent in pieces decides
  for all of them. A compressor whose output was discarded is dropped (the
  client's inflater never saw that input), so the next message starts with
  an empty window, which any inflater decodes.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from typing import Final

from wsproto.extensions import Extension
from wsproto.frame_protocol import CloseReason, FrameDecoder, FrameProtocol, Opcode, RsvBits

NAME: Final = "permessage-deflate"
#: Largest LZ77 window the front compresses with (bits); clients may ask for less.
SERVER_WINDOW_BITS: Final = 12
MEM_LEVEL: Final = 5
_TAIL: Final = b"\x00\x00\xff\xff"
#: Bytes of a large outgoing message trial-compressed to decide whether to
#: compress it at all.
SAMPLE_SIZE: Final = 4096
#: A sample compressed to more than this fraction of its size (in 1/64ths)
#: means the message is sent uncompressed.
_SAMPLE_GAIN: Final = 60
_NO_RSV: Final = RsvBits(False, False, False)
_RSV1: Final = RsvBits(True, False, False)

# One extension: token *( ";" token [ "=" ( token / quoted-string ) ] )
_PARAM: Final = re.compile(
    r'\s*;\s*([!#$%&\'*+\-.^_`|~0-9A-Za-z]+)(?:\s*=\s*(?:([!#$%&\'*+\-.^_`|~0-9A-Za-z]+)|"((?:[^"\\]|\\.)*)"))?'
)
_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_SKIP: Final = re.compile(r"[ \t,]*")  # whitespace and empty list elements
_SEPARATOR: Final = re.compile(r"[ \t]*(?:,|$)")
_BITS: Final = re.compile(r"[0-9]{1,2}")
_ESCAPE: Final = re.compile(r"\\(.)")


def parse_extensions(values: Sequence[bytes]) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """``[(name, [(param, value | None), ...]), ...]`` of the header values.

    Names are lower-cased and quoted values unescaped. Raises ``ValueError``
    on malformed input.
    """
    out: list[tuple[str, list[tuple[str, str | None]]]] = []
    for raw in values:
        text = raw.decode("latin-1")
        end = len(text)
        pos = _SKIP.match(text).end()  # type: ignore[union-attr]
        while pos < end:
            name = _NAME.match(text, pos)
            if name is None:
                raise ValueError("malformed extension list")
            pos = name.end()
            params: list[tuple[str, str | None]] = []
            while (param := _PARAM.match(text, pos)) is not None:
                value = param.group(2)
                if value is None and param.group(3) is not None:
                    value = _ESCAPE.sub(r"\1", param.group(3))
                params.append((param.group(1).lower(), value))
                pos = param.end()
            if _SEPARATOR.match(text, pos) is None:
                raise ValueError("malformed extension list")
            out.append((name.group(0).lower(), params))
            pos = _SKIP.match(text, pos).end()  # type: ignore[union-attr]
    return out


def _window_bits(value: str | None) -> int | None:
    if value is None or _BITS.fullmatch(value) is None:
        return None
    bits = int(value)
    return bits if 8 <= bits <= 15 else None


def negotiate(values: Sequence[bytes], max_size: int) -> tuple[bytes, BoundedDeflate] | None:
    """The response value and codec for the first acceptable offer, or None."""
    try:
        offers = parse_extensions(values)
    except ValueError:
        return None
    for name, params in offers:
        if name != NAME:
            continue
        accepted = _accept(params)
        if accepted is None:
            continue
        server_nct, client_nct, server_bits = accepted
        response = [NAME]
        if server_nct:
            response.append("server_no_context_takeover")
        if client_nct:
            response.append("client_no_context_takeover")
        if server_bits is not None:
            response.append(f"server_max_window_bits={server_bits}")
        codec = BoundedDeflate(
            max_size,
            server_no_context_takeover=server_nct,
            client_no_context_takeover=client_nct,
            window_bits=min(server_bits or 15, SERVER_WINDOW_BITS),
        )
        return "; ".join(response).encode("ascii"), codec
    return None


def _accept(params: list[tuple[str, str | None]]) -> tuple[bool, bool, int | None] | None:
    """``(server_no_context_takeover, client_no_context_takeover,
    server_max_window_bits)`` for an acceptable offer's parameters, else None."""
    seen: set[str] = set()
    server_nct = client_nct = False
    server_bits: int | None = None
    for key, value in params:
        if key in seen:
            return None
        seen.add(key)
        if key == "server_no_context_takeover":
            if value is not None:
                return None
            server_nct = True
        elif key == "client_no_context_takeover":
            if value is not None:
                return None
            client_nct = True
        elif key == "server_max_window_bits":
            server_bits = _window_bits(value)
            if server_bits is None or server_bits < 9:
                return None
        elif key == "client_max_window_bits":
            if value is not None and _window_bits(value) is None:
                return None
        else:
            return None
    return server_nct, client_nct, server_bits


class BoundedDeflate(Extension):
    """The negotiated permessage-deflate codec of one connection (server side).

    Per message, the RSV1 bit of its first frame says whether it is
    compressed; continuation and control frames must not set it (1002).
    Inflated output is counted per message against ``max_size`` (1009 past
    it); corrupt deflate data is 1007.
    """

    name = NAME

    def __init__(
        self,
        max_size: int,
        *,
        server_no_context_takeover: bool,
        client_no_context_takeover: bool,
        window_bits: int,
    ) -> None:
        self.max_size = max_size
        self.server_no_context_takeover = server_no_context_takeover
        self.client_no_context_takeover = client_no_context_takeover
        self.window_bits = window_bits
        self._inflater: zlib._Decompress | None = None
        self._deflater: zlib._Compress | None = None
        self._frame_is_data = False  # the frame being received is TEXT/BINARY/CONTINUATION
        self._message_compressed = False  # the message being received had RSV1
        self._inflated = 0  # bytes inflated for the message being received
        # The message being sent: None between messages, else whether it is
        # compressed (decided by its first piece).
        self._sending_compressed: bool | None = None

    @property
    def message_compressed(self) -> bool:
        """The message being received is compressed (its first frame had RSV1)."""
        return self._message_compressed

    def enabled(self) -> bool:
        return True

    def offer(self) -> bool | str:  # only clients offer
        return False

    # --- inbound -----------------------------------------------------------

    def frame_inbound_header(
        self,
        proto: FrameDecoder | FrameProtocol,
        opcode: Opcode,
        rsv: RsvBits,
        payload_length: int,
    ) -> CloseReason | RsvBits:
        if opcode.iscontrol():
            self._frame_is_data = False
            return CloseReason.PROTOCOL_ERROR if rsv.rsv1 else _NO_RSV
        self._frame_is_data = True
        if opcode is Opcode.CONTINUATION:
            return CloseReason.PROTOCOL_ERROR if rsv.rsv1 else _NO_RSV
        self._message_compressed = rsv.rsv1
        self._inflated = 0
        return _RSV1

    def _inflate(self, data: bytes) -> bytes | CloseReason:
        inflater = self._inflater
        if inflater is None:
            inflater = self._inflater = zlib.decompressobj(-15)
        room = self.max_size - self._inflated
        try:
            out = inflater.decompress(data, room + 1)
        except zlib.error:
            return CloseReason.INVALID_FRAME_PAYLOAD_DATA
        self._inflated += len(out)
        if self._inflated > self.max_size:
            return CloseReason.MESSAGE_TOO_BIG
        return out

    def frame_inbound_payload_data(
        self, proto: FrameDecoder | FrameProtocol, data: bytes
    ) -> bytes | CloseReason:
        if not (self._frame_is_data and self._message_compressed) or not data:
            return data
        return self._inflate(data)

    def frame_inbound_complete(
        self, proto: FrameDecoder | FrameProtocol, fin: bool
    ) -> bytes | CloseReason | None:
        if not (fin and self._frame_is_data and self._message_compressed):
            return None
        self._message_compressed = False
        out = self._inflate(_TAIL)
        if self.client_no_context_takeover:
            self._inflater = None
        return out

    # --- outbound ----------------------------------------------------------

    def frame_outbound(
        self,
        proto: FrameDecoder | FrameProtocol,
        opcode: Opcode,
        rsv: RsvBits,
        data: bytes,
        fin: bool,
    ) -> tuple[RsvBits, bytes]:
        if opcode.iscontrol():
            return rsv, data
        compressed = self._sending_compressed
        if compressed is None:  # the first piece of a message decides
            compressed = len(data) <= SAMPLE_SIZE or _compressible(data[:SAMPLE_SIZE])
        out = data
        if compressed:
            out = self._compress(data, fin)
            if opcode is not Opcode.CONTINUATION:
                if len(out) >= len(data):  # no gain: send this message as it is
                    self._deflater = None  # its history now differs from the client's
                    compressed = False
                    out = data
                else:
                    rsv = RsvBits(True, rsv.rsv2, rsv.rsv3)
        self._sending_compressed = None if fin else compressed
        return rsv, out

    def _compress(self, data: bytes, fin: bool) -> bytes:
        deflater = self._deflater
        if deflater is None:
            deflater = self._deflater = self._new_deflater()
        out = deflater.compress(data)
        if fin:
            out += deflater.flush(zlib.Z_SYNC_FLUSH)
            if out.endswith(_TAIL):
                out = out[:-4]
            if self.server_no_context_takeover:
                self._deflater = None
        return out

    def _new_deflater(self) -> zlib._Compress:
        return zlib.compressobj(
            zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -self.window_bits, MEM_LEVEL
        )


def _compressible(sample: bytes) -> bool:
    """Whether a fast trial compression of ``sample`` gains anything worth it."""
    trial = zlib.compressobj(1, zlib.DEFLATED, -SERVER_WINDOW_BITS, MEM_LEVEL)
    size = len(trial.compress(sample)) + len(trial.flush(zlib.Z_SYNC_FLUSH))
    return size * 64 < len(sample) * _SAMPLE_GAIN
