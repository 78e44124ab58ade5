"""HTTP/2 frame layout (RFC 9113 section 4, 6): codes and the frames the server writes.

Every builder returns the complete frame as bytes: the 9-octet header
(24-bit length, type, flags, 31-bit stream id) followed by the payload.
Nothing here keeps state; the connection engine (:mod:`.engine`) decides
what may be sent.
"""

from __future__ import annotations

from struct import Struct

# Frame types (section 6).
DATA = 0x0
HEADERS = 0x1
PRIORITY = 0x2
RST_STREAM = 0x3
SETTINGS = 0x4
PUSH_PROMISE = 0x5
PING = 0x6
GOAWAY = 0x7
WINDOW_UPDATE = 0x8
CONTINUATION = 0x9

# Flags.
END_STREAM = 0x1
ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY_FLAG = 0x20

# Error codes (section 7).
NO_ERROR = 0x0
PROTOCOL_ERROR = 0x1
INTERNAL_ERROR = 0x2
FLOW_CONTROL_ERROR = 0x3
SETTINGS_TIMEOUT = 0x4
STREAM_CLOSED = 0x5
FRAME_SIZE_ERROR = 0x6
REFUSED_STREAM = 0x7
CANCEL = 0x8
COMPRESSION_ERROR = 0x9
ENHANCE_YOUR_CALM = 0xB

_ERROR_NAMES = {
    code: name
    for name, code in list(globals().items())
    if name.isupper()
    and (
        name.endswith("_ERROR")
        or name
        in (
            "NO_ERROR",
            "STREAM_CLOSED",
            "SETTINGS_TIMEOUT",
            "REFUSED_STREAM",
            "CANCEL",
            "ENHANCE_YOUR_CALM",
        )
    )
}


def error_name(code: int) -> str:
    """``PROTOCOL_ERROR`` for 1; an unknown code in hex."""
    return _ERROR_NAMES.get(code, hex(code))


# SETTINGS parameters (section 6.5.2; RFC 8441 section 3).
HEADER_TABLE_SIZE = 0x1
ENABLE_PUSH = 0x2
MAX_CONCURRENT_STREAMS = 0x3
INITIAL_WINDOW_SIZE = 0x4
MAX_FRAME_SIZE = 0x5
MAX_HEADER_LIST_SIZE = 0x6
ENABLE_CONNECT_PROTOCOL = 0x8

#: The largest flow-control window (section 6.9.1).
MAX_WINDOW = 2**31 - 1
#: The smallest and largest SETTINGS_MAX_FRAME_SIZE (section 6.5.2).
MIN_FRAME_SIZE = 16384
MAX_FRAME_SIZE_LIMIT = 2**24 - 1
#: The initial window of every stream and of the connection (section 6.9.2).
DEFAULT_WINDOW = 65535


class ConnectionViolation(Exception):
    """A connection error (section 5.4.1): raised inside the engine, never out of it."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


_HEAD = Struct(">BHBBI")  # length as 8 + 16 bits, type, flags, stream id
_U32 = Struct(">I")
_SETTING = Struct(">HI")
_GOAWAY = Struct(">II")

unpack_u32 = _U32.unpack_from
unpack_setting = _SETTING.unpack_from


def frame_head(kind: int, flags: int, sid: int, length: int) -> bytes:
    """The 9-octet header of a frame with a payload of ``length`` octets."""
    return _HEAD.pack(length >> 16, length & 0xFFFF, kind, flags, sid)


def settings_frame(pairs: list[tuple[int, int]]) -> bytes:
    payload = b"".join(_SETTING.pack(k, v) for k, v in pairs)
    return frame_head(SETTINGS, 0, 0, len(payload)) + payload


SETTINGS_ACK = frame_head(SETTINGS, ACK, 0, 0)


def window_update(sid: int, increment: int) -> bytes:
    return frame_head(WINDOW_UPDATE, 0, sid, 4) + _U32.pack(increment)


def rst_stream(sid: int, code: int) -> bytes:
    return frame_head(RST_STREAM, 0, sid, 4) + _U32.pack(code)


def goaway(last_stream: int, code: int) -> bytes:
    return frame_head(GOAWAY, 0, 0, 8) + _GOAWAY.pack(last_stream, code)


def ping_ack(payload: bytes) -> bytes:
    return frame_head(PING, ACK, 0, 8) + payload
