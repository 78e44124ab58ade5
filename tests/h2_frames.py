"""Raw HTTP/2 frames for tests: split a byte stream into hyperframe frames, build bad ones."""

from __future__ import annotations

import struct

from hyperframe.frame import Frame, GoAwayFrame

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def parse_frames(data: bytes) -> list[Frame]:
    """Every complete frame in ``data`` (a server's output, preface-free)."""
    return split_frames(data)[0]


def split_frames(data: bytes) -> tuple[list[Frame], bytes]:
    """The complete frames at the start of ``data``, and the bytes after them."""
    frames: list[Frame] = []
    view = memoryview(data)
    while len(view) >= 9:
        frame, length = Frame.parse_frame_header(view[:9])
        if len(view) < 9 + length:
            break
        frame.parse_body(view[9 : 9 + length])
        frames.append(frame)
        view = view[9 + length :]
    return frames, bytes(view)


def goaway_of(data: bytes) -> GoAwayFrame | None:
    """The first GOAWAY frame in ``data``, if any."""
    for frame in parse_frames(data):
        if isinstance(frame, GoAwayFrame):
            return frame
    return None


def raw_frame(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    """One frame exactly as given, whatever the rules say."""
    return (
        struct.pack(">I", len(payload))[1:]
        + bytes([kind, flags])
        + struct.pack(">I", stream_id)
        + payload
    )
