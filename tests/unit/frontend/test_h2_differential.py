"""pagi's HTTP/2 engine against the h2 library: the same client bytes, the same outcome.

Each case is a client byte stream (a valid session, a conformance case from
``tests/integration/test_http2_conformance.py``, or a fuzz corpus input from
``tests/fuzz_regressions/h2``), fed whole and in small pieces to both servers
(``tests/h2_reference.py``). They must agree on the requests served, the
streams reset with their codes, and the GOAWAY code; where pagi follows
RFC 9113 and h2 does not, the case is listed in :data:`DIFFERENCES` with the
outcome pagi must have and why (``docs/http2.md`` lists them too).
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from h2.errors import ErrorCodes as E
from h2_client import header_block
from h2_frames import PREFACE, raw_frame
from h2_reference import Outcome, engine_outcome, h2_outcome
from integration.test_http2_conformance import (
    BAD_TRAILERS,
    CONNECTION_ERRORS,
    MALFORMED,
    STREAM_ERRORS,
    headers,
    settings,
)

from bench.fuzz.h2_target import build_wire

DATA, HEADERS, PRIORITY, RST, SETTINGS, PING, GOAWAY, WINDOW, CONT = 0, 1, 2, 3, 4, 6, 7, 8, 9
START = PREFACE + settings()
GET = [(":method", "GET"), (":scheme", "http"), (":path", "/hello"), (":authority", "x")]
POST = [(":method", "POST"), *GET[1:]]
CORPUS = Path(__file__).resolve().parents[2] / "fuzz_regressions" / "h2"


def _padded(kind: int, flags: int, sid: int, payload: bytes, pad: int) -> bytes:
    return raw_frame(kind, flags | 0x8, sid, bytes([pad]) + payload + b"\x00" * pad)


SESSIONS: dict[str, bytes] = {
    "one GET": headers(1, GET),
    "POST in pieces": headers(1, POST, 0x4)
    + raw_frame(DATA, 0, 1, b"abc")
    + raw_frame(DATA, 0, 1, b"")
    + raw_frame(DATA, 0x1, 1, b"def"),
    "POST with trailers": headers(1, POST, 0x4)
    + raw_frame(DATA, 0, 1, b"abc")
    + raw_frame(HEADERS, 0x5, 1, header_block([("x-t", "1")])),  # type: ignore[list-item]
    "interleaved streams": headers(1, POST, 0x4)
    + headers(3, POST, 0x4)
    + raw_frame(DATA, 0, 3, b"3")
    + raw_frame(DATA, 0x1, 1, b"1")
    + raw_frame(DATA, 0x1, 3, b"33")
    + headers(5, GET),
    "padding and priority": _padded(HEADERS, 0x4, 1, header_block(POST), 7)  # type: ignore[arg-type]
    + _padded(DATA, 0x1, 1, b"body", 200)
    + raw_frame(PRIORITY, 0, 3, b"\x00\x00\x00\x01\x10")
    + raw_frame(HEADERS, 0x25, 5, b"\x00\x00\x00\x01\x10" + header_block(GET)),  # type: ignore[arg-type]
    "header block in CONTINUATION frames": raw_frame(
        HEADERS,
        0x1,
        1,
        header_block(GET)[:3],  # type: ignore[arg-type]
    )
    + raw_frame(CONT, 0, 1, header_block(GET)[3:5])  # type: ignore[arg-type]
    + raw_frame(CONT, 0x4, 1, header_block(GET)[5:]),  # type: ignore[arg-type]
    "ping, settings, window updates": raw_frame(PING, 0, 0, b"12345678")
    + settings((0x4, 100), (0x5, 20000), (0x1, 0))
    + raw_frame(WINDOW, 0, 0, struct.pack(">I", 1000))
    + headers(1, POST, 0x4)
    + raw_frame(WINDOW, 0, 1, struct.pack(">I", 1000))
    + raw_frame(DATA, 0x1, 1, b"x"),
    "client resets a stream mid-body": headers(1, POST, 0x4)
    + raw_frame(DATA, 0, 1, b"part")
    + raw_frame(RST, 0, 1, struct.pack(">I", E.CANCEL))
    + raw_frame(WINDOW, 0, 1, struct.pack(">I", 5))
    + raw_frame(PRIORITY, 0, 1, b"\x00\x00\x00\x00\x10")
    + headers(3, GET),
    "DATA after the client's reset": headers(1, POST, 0x4)
    + raw_frame(RST, 0, 1, struct.pack(">I", E.CANCEL))
    + raw_frame(DATA, 0, 1, b"late"),
    "client GOAWAY": headers(1, GET) + raw_frame(GOAWAY, 0, 0, b"\x00" * 8),
    "unknown frame type": raw_frame(0x20, 0xFF, 0, b"?") + headers(1, GET),
    "body of 48 KiB in the window": headers(1, POST, 0x4)
    + b"".join(raw_frame(DATA, 0, 1, b"y" * 16384) for _ in range(3))
    + raw_frame(DATA, 0x1, 1, b"end"),
    "a stream id skipped": headers(5, GET) + headers(7, GET),
}

#: More h2spec-style violations (beyond the integration suite's).
VIOLATIONS: dict[str, bytes] = {
    "PUSH_PROMISE from a client": raw_frame(0x5, 0x4, 1, b"\x00\x00\x00\x02"),
    "HEADERS padding longer than the frame": raw_frame(HEADERS, 0xD, 1, b"\x10" + b"\x82"),
    "DATA padding longer than the frame": headers(1, POST, 0x4)
    + raw_frame(DATA, 0x8, 1, b"\x05abc"),
    "GOAWAY of 7 bytes": raw_frame(GOAWAY, 0, 0, b"\x00" * 7),
    "RST_STREAM of 5 bytes": headers(1, POST, 0x4) + raw_frame(RST, 0, 1, b"\x00" * 5),
    "WINDOW_UPDATE on an idle stream": raw_frame(WINDOW, 0, 1, struct.pack(">I", 1)),
    "initial window change overflowing a stream": headers(1, POST, 0x4)
    + raw_frame(WINDOW, 0, 1, struct.pack(">I", 2**31 - 1 - 65535))
    + settings((0x4, 65536)),
    "SETTINGS_ENABLE_CONNECT_PROTOCOL 2": settings((0x8, 2)),
    "HPACK: truncated literal": raw_frame(HEADERS, 0x5, 1, b"\x40\x05ab"),
    "DATA on the connection window's edge": headers(1, POST, 0x4)
    + raw_frame(WINDOW, 0, 0, struct.pack(">I", 1)),
}

CASES: dict[str, bytes] = {f"session: {k}": START + v for k, v in SESSIONS.items()}
CASES.update({f"violation: {k}": START + v for k, v in VIOLATIONS.items()})
CASES["violation: no SETTINGS after the preface"] = PREFACE + headers(1, GET)
CASES.update({f"conn: {k}": START + v for k, (v, _) in CONNECTION_ERRORS.items()})
CASES.update({f"stream: {k}": START + v for k, (v, _) in STREAM_ERRORS.items()})
CASES.update({f"malformed: {k}": START + headers(1, v) for k, v in MALFORMED.items()})  # type: ignore[arg-type]
CASES.update(
    {
        f"trailers: {k}": START
        + headers(1, POST, 0x4)
        + raw_frame(HEADERS, 0x5, 1, header_block(v))  # type: ignore[arg-type]
        for k, v in BAD_TRAILERS.items()
    }
)
CASES.update({f"corpus: {p.name}": build_wire(p.read_bytes()) for p in sorted(CORPUS.iterdir())})

_STREAM_ERROR = "RFC 9113 calls it a stream error (RST_STREAM); h2 ends the connection"
#: Cases where pagi follows RFC 9113 and h2 does not: the streams pagi resets
#: (with their codes; the connection goes on), and why.
DIFFERENCES: dict[str, tuple[dict[int, int], str]] = {
    "stream: trailers without END_STREAM": (
        {1: E.PROTOCOL_ERROR},
        f"section 8.1: a malformed request; {_STREAM_ERROR}",
    ),
    "stream: PRIORITY of 4 bytes": ({1: E.FRAME_SIZE_ERROR}, f"section 6.3: {_STREAM_ERROR}"),
    "stream: HEADERS depending on itself": (
        {1: E.PROTOCOL_ERROR},
        f"section 5.3.1 (RFC 7540): {_STREAM_ERROR}",
    ),
    "stream: PRIORITY depending on itself": (
        {3: E.PROTOCOL_ERROR},
        f"section 5.3.1 (RFC 7540): {_STREAM_ERROR}",
    ),
    "stream: WINDOW_UPDATE of 0 on a stream": (
        {1: E.PROTOCOL_ERROR},
        f"section 6.9: {_STREAM_ERROR}",
    ),
    "violation: no SETTINGS after the preface": (
        {},
        "section 3.4: the preface ends with a SETTINGS frame; h2 takes any frame",
    ),
    "corpus: seed-malformed": (
        {sid: E.PROTOCOL_ERROR for sid in (3, 5, 7, 9, 11, 13, 15, 17, 21, 23)},
        f"an invalid content-length makes a malformed request (section 8.1.1): {_STREAM_ERROR}",
    ),
}


def _pieces(wire: bytes, size: int) -> list[bytes]:
    return [wire[i : i + size] for i in range(0, len(wire), size)] or [b""]


@pytest.mark.parametrize("case", list(CASES))
def test_same_outcome_as_h2(case: str) -> None:
    wire = CASES[case]
    ours = engine_outcome([wire])
    assert engine_outcome(_pieces(wire, 7)).observable() == ours.observable()
    if case in DIFFERENCES:
        resets, _why = DIFFERENCES[case]
        if resets:
            assert ours.goaway is None and ours.resets == resets
        else:
            assert ours.goaway == E.PROTOCOL_ERROR
        assert h2_outcome([wire]).observable() != ours.observable()  # h2 still differs
        return
    theirs = h2_outcome([wire])
    assert ours.observable() == theirs.observable()


def test_the_comparison_can_fail() -> None:
    """A request h2 serves and a stream it resets show up as differences."""
    served = Outcome(requests={1: ([(b":method", b"GET")], b"", True, None)})
    assert served.observable() != Outcome().observable()
    assert Outcome(resets={1: 1}).observable() != Outcome(resets={1: 5}).observable()
    assert Outcome(goaway=1).observable() != Outcome(goaway=9).observable()
