"""RFC 9113 / RFC 7541 conformance at the frame level, on h2c and on TLS (ALPN h2).

Each case writes frames as raw bytes (most of them h2 would refuse to send)
after the client preface and checks the server's first error frame, the way
h2spec does: a connection error is GOAWAY with the code, a stream error is
RST_STREAM with the code (where the RFC allows either, either passes).
"""

from __future__ import annotations

import socket
import ssl
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from h2.errors import ErrorCodes as E
from h2_client import first_error, header_block, raw_connection, read_frames
from h2_frames import raw_frame
from harness import Front, Processes
from hyperframe.frame import DataFrame, HeadersFrame, PingFrame
from tls_certs import TlsFiles

DATA, HEADERS, PRIORITY, RST, SETTINGS, PING, GOAWAY, WINDOW, CONT = 0, 1, 2, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1

REQUEST = [(":method", "GET"), (":scheme", "http"), (":path", "/hello"), (":authority", "x")]


def headers(sid: int, fields: list[tuple[str, str]] = REQUEST, flags: int = 0x5) -> bytes:
    return raw_frame(HEADERS, flags, sid, header_block(fields))  # type: ignore[arg-type]


def settings(*pairs: tuple[int, int]) -> bytes:
    return raw_frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))


def with_field(name: str, value: str) -> list[tuple[str, str]]:
    return [*REQUEST, (name, value)]


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory, tls_files: TlsFiles) -> Iterator[Front]:
    procs = Processes(Path(tmp_path_factory.mktemp("h2conf")))
    try:
        yield procs.front(
            "--bind",
            "tls://127.0.0.1:0",
            "--ssl-certfile",
            str(tls_files.server),
            "--http2-stall-timeout",
            "1",
            app="basic:app",
        )
    finally:
        procs.cleanup()


@pytest.fixture(params=["h2c", "tls"])
def connect(request: pytest.FixtureRequest, front: Front, tls_files: TlsFiles) -> Iterator[object]:
    opened: list[socket.socket] = []

    def make() -> socket.socket:
        tls = tls_files.client_context() if request.param == "tls" else None
        port = front.tls_port if request.param == "tls" else front.port
        sock = raw_connection(port, tls)
        opened.append(sock)
        return sock

    yield make
    for sock in opened:
        sock.close()


CONNECTION_ERRORS = {
    "frame larger than SETTINGS_MAX_FRAME_SIZE": (
        headers(1, flags=END_HEADERS) + raw_frame(DATA, 0, 1, b"x" * 16385),
        E.FRAME_SIZE_ERROR,
    ),
    "HEADERS on stream 0": (headers(0), E.PROTOCOL_ERROR),
    "HEADERS on an even stream": (headers(2), E.PROTOCOL_ERROR),
    "stream id lower than an earlier one": (headers(5) + headers(3), E.PROTOCOL_ERROR),
    "DATA on an idle stream": (raw_frame(DATA, 0, 1, b"x"), E.PROTOCOL_ERROR),
    "DATA on stream 0": (raw_frame(DATA, 0, 0, b"x"), E.PROTOCOL_ERROR),
    "SETTINGS_ENABLE_PUSH 2": (settings((0x2, 2)), E.PROTOCOL_ERROR),
    "SETTINGS_INITIAL_WINDOW_SIZE 2^31": (settings((0x4, 2**31)), E.FLOW_CONTROL_ERROR),
    "SETTINGS_MAX_FRAME_SIZE below 16384": (settings((0x5, 16383)), E.PROTOCOL_ERROR),
    "SETTINGS_MAX_FRAME_SIZE above 2^24-1": (settings((0x5, 2**24)), E.PROTOCOL_ERROR),
    "SETTINGS length not a multiple of 6": (
        raw_frame(SETTINGS, 0, 0, b"\x00\x03\x00\x00\x00"),
        E.FRAME_SIZE_ERROR,
    ),
    "SETTINGS ACK with a payload": (
        raw_frame(SETTINGS, ACK, 0, b"\x00\x03\x00\x00\x00\x64"),
        E.FRAME_SIZE_ERROR,
    ),
    "SETTINGS on a stream": (raw_frame(SETTINGS, 0, 1), E.PROTOCOL_ERROR),
    "PING of 7 bytes": (raw_frame(PING, 0, 0, b"1234567"), E.FRAME_SIZE_ERROR),
    "PING on a stream": (raw_frame(PING, 0, 1, b"12345678"), E.PROTOCOL_ERROR),
    "GOAWAY on a stream": (raw_frame(GOAWAY, 0, 1, b"\x00" * 8), E.PROTOCOL_ERROR),
    "WINDOW_UPDATE of 0 on the connection": (
        raw_frame(WINDOW, 0, 0, b"\x00\x00\x00\x00"),
        E.PROTOCOL_ERROR,
    ),
    "connection window beyond 2^31-1": (
        raw_frame(WINDOW, 0, 0, struct.pack(">I", 2**31 - 1)) * 2,
        E.FLOW_CONTROL_ERROR,
    ),
    "WINDOW_UPDATE of 3 bytes": (raw_frame(WINDOW, 0, 0, b"\x00\x00\x01"), E.FRAME_SIZE_ERROR),
    "RST_STREAM on an idle stream": (raw_frame(RST, 0, 1, b"\x00\x00\x00\x08"), E.PROTOCOL_ERROR),
    "RST_STREAM on stream 0": (raw_frame(RST, 0, 0, b"\x00\x00\x00\x08"), E.PROTOCOL_ERROR),
    "CONTINUATION without HEADERS": (
        raw_frame(CONT, END_HEADERS, 1, header_block(REQUEST)),  # type: ignore[arg-type]
        E.PROTOCOL_ERROR,
    ),
    "another frame inside a header block": (
        headers(1, flags=END_STREAM) + raw_frame(PING, 0, 0, b"12345678"),
        E.PROTOCOL_ERROR,
    ),
    "CONTINUATION of another stream": (
        headers(1, flags=END_STREAM) + raw_frame(CONT, END_HEADERS, 3, b""),
        E.PROTOCOL_ERROR,
    ),
    "HPACK index beyond the tables": (raw_frame(HEADERS, 0x5, 1, b"\xbe"), E.COMPRESSION_ERROR),
    "HPACK table size update above the limit": (
        raw_frame(HEADERS, 0x5, 1, b"\x3f\xe1\xff\x03" + header_block(REQUEST)),  # type: ignore[arg-type]
        E.COMPRESSION_ERROR,
    ),
}

# Stream-level errors (RFC 9113 sections 5.1, 6.x): RST_STREAM with the code, or
# (where the RFC allows a connection error) GOAWAY with it.
POST_OPEN = [(":method", "POST"), *REQUEST[1:]]
STREAM_ERRORS = {
    "DATA on a half-closed (remote) stream": (
        headers(1) + raw_frame(DATA, END_STREAM, 1, b"x"),
        E.STREAM_CLOSED,
    ),
    "HEADERS on a half-closed (remote) stream": (headers(1) + headers(1), E.STREAM_CLOSED),
    "trailers without END_STREAM": (
        headers(1, POST_OPEN, END_HEADERS)  # type: ignore[arg-type]
        + raw_frame(HEADERS, END_HEADERS, 1, header_block([("x-t", "1")])),  # type: ignore[list-item]
        E.PROTOCOL_ERROR,
    ),
    "PRIORITY of 4 bytes": (raw_frame(PRIORITY, 0, 1, b"\x00\x00\x00\x03"), E.FRAME_SIZE_ERROR),
    "HEADERS depending on itself": (
        raw_frame(HEADERS, 0x25, 1, b"\x00\x00\x00\x01\x10" + header_block(REQUEST)),  # type: ignore[arg-type]
        E.PROTOCOL_ERROR,
    ),
    "PRIORITY depending on itself": (
        raw_frame(PRIORITY, 0, 3, b"\x00\x00\x00\x03\x10"),
        E.PROTOCOL_ERROR,
    ),
    "WINDOW_UPDATE of 0 on a stream": (
        headers(1, POST_OPEN, END_HEADERS) + raw_frame(WINDOW, 0, 1, b"\x00\x00\x00\x00"),  # type: ignore[arg-type]
        E.PROTOCOL_ERROR,
    ),
    "stream window beyond 2^31-1": (
        headers(1, POST_OPEN, END_HEADERS)  # type: ignore[arg-type]
        + raw_frame(WINDOW, 0, 1, struct.pack(">I", 2**31 - 1)) * 2,
        E.FLOW_CONTROL_ERROR,
    ),
}

# Malformed requests: a stream error PROTOCOL_ERROR, or (allowed) a connection error.
MALFORMED = {
    "upper-case field name": with_field("X-Upper", "1"),
    "connection-specific field": with_field("connection", "keep-alive"),
    "transfer-encoding": with_field("transfer-encoding", "chunked"),
    "te other than trailers": with_field("te", "gzip"),
    "pseudo-header after a regular field": [("x-a", "1"), *REQUEST],
    "duplicate :path": [*REQUEST, (":path", "/again")],
    "missing :method": REQUEST[1:],
    "missing :path": [REQUEST[0], REQUEST[1], REQUEST[3]],
    "empty :path": [REQUEST[0], REQUEST[1], (":path", ""), REQUEST[3]],
    "unknown pseudo-header": with_field(":foo", "bar"),
    "response pseudo-header": with_field(":status", "200"),
    ":protocol without CONNECT": with_field(":protocol", "websocket"),
    "path not starting with /": [REQUEST[0], REQUEST[1], (":path", "hello"), REQUEST[3]],
    # section 8.2.1 field validity (checked by pagi, not h2: see fields.py)
    "empty field name": with_field("", "1"),
    "space in a field name": with_field("x a", "1"),
    "colon in a field name": with_field("x:a", "1"),
    "non-ASCII field name": [*REQUEST, ("x-\xe9", "1")],
    "NUL in a field value": with_field("x-a", "a\x00b"),
    "LF in a field value": with_field("x-a", "a\nb"),
    "CR in a field value": with_field("x-a", "a\rb"),
    "field value starting with a space": with_field("x-a", " a"),
    "field value ending with a tab": with_field("x-a", "a\t"),
    "CR in a pseudo-header value": [REQUEST[0], REQUEST[1], (":path", "/a\rb"), REQUEST[3]],
    "keep-alive": with_field("keep-alive", "5"),
    "upgrade": with_field("upgrade", "h2c"),
    "missing :scheme": [REQUEST[0], REQUEST[2], REQUEST[3]],
    "plain CONNECT with :path": [(":method", "CONNECT"), (":path", "/"), (":authority", "x:1")],
    "neither :authority nor host": REQUEST[:3],
    ":authority and host differ": with_field("host", "y"),
    "two host fields": [*REQUEST[:3], ("host", "x"), ("host", "x")],
}

# Malformed trailers (section 8.1): a pseudo-header field or an invalid field.
BAD_TRAILERS = {
    "pseudo-header field in trailers": [(":path", "/")],
    "upper-case name in trailers": [("X-T", "1")],
    "connection-specific field in trailers": [("connection", "close")],
    "LF in a trailer value": [("x-t", "a\nb")],
}


@pytest.mark.parametrize("case", list(CONNECTION_ERRORS))
def test_connection_error(connect: object, case: str) -> None:
    frames, code = CONNECTION_ERRORS[case]
    sock = connect()  # type: ignore[operator]
    sock.sendall(frames)
    assert first_error(sock)[:2] == ("GOAWAY", code)


@pytest.mark.parametrize("case", list(STREAM_ERRORS))
def test_stream_error(connect: object, case: str) -> None:
    frames, code = STREAM_ERRORS[case]
    sock = connect()  # type: ignore[operator]
    sock.sendall(frames)
    kind, got, _ = first_error(sock)
    assert kind in ("RST_STREAM", "GOAWAY") and got == code


def test_unknown_frames_and_settings_are_ignored(connect: object) -> None:
    sock = connect()  # type: ignore[operator]
    sock.sendall(
        raw_frame(0x42, 0xFF, 0, b"whatever")  # unknown frame type
        + settings((0x99, 7))  # unknown setting
        + raw_frame(PING, ACK, 0, b"12345678")  # an unsolicited PING ACK
        + headers(1)
    )
    frames = read_frames(sock, lambda f: isinstance(f, DataFrame) and "END_STREAM" in f.flags)
    assert b"".join(f.data for f in frames if isinstance(f, DataFrame)) == b"hello"


def test_ping_is_answered_with_the_same_payload(connect: object) -> None:
    sock = connect()  # type: ignore[operator]
    sock.sendall(raw_frame(PING, 0, 0, b"pagi-h2!"))
    frames = read_frames(sock, lambda f: isinstance(f, PingFrame) and "ACK" in f.flags)
    acks = [f for f in frames if isinstance(f, PingFrame) and "ACK" in f.flags]
    assert acks and acks[0].opaque_data == b"pagi-h2!"


def test_client_goaway_ends_the_connection(connect: object) -> None:
    sock = connect()  # type: ignore[operator]
    sock.sendall(raw_frame(GOAWAY, 0, 0, b"\x00" * 8))
    read_frames(sock, lambda f: False, timeout=5)  # returns when the server closes
    sock.settimeout(5)
    assert sock.recv(100) == b""


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_request(connect: object, case: str) -> None:
    sock = connect()  # type: ignore[operator]
    sock.sendall(headers(1, MALFORMED[case]))
    kind, code, _ = first_error(sock)
    assert kind in ("RST_STREAM", "GOAWAY") and code == E.PROTOCOL_ERROR


def test_malformed_request_is_a_stream_error(connect: object) -> None:
    """A malformed request resets its stream only: the next one on the connection is served."""
    sock = connect()  # type: ignore[operator]
    sock.sendall(headers(1, with_field("x-a", " padded")) + headers(3))
    frames = read_frames(sock, lambda f: isinstance(f, DataFrame) and "END_STREAM" in f.flags)
    resets = [f for f in frames if type(f).__name__ == "RstStreamFrame"]
    assert [(f.stream_id, f.error_code) for f in resets] == [(1, E.PROTOCOL_ERROR)]
    body = b"".join(f.data for f in frames if isinstance(f, DataFrame) and f.stream_id == 3)
    assert body == b"hello"


@pytest.mark.parametrize("case", list(BAD_TRAILERS))
def test_malformed_trailers(connect: object, case: str) -> None:
    sock = connect()  # type: ignore[operator]
    post = [(":method", "POST"), *REQUEST[1:]]
    sock.sendall(
        headers(1, post, END_HEADERS)  # type: ignore[arg-type]
        + raw_frame(DATA, 0, 1, b"abc")
        + raw_frame(HEADERS, END_STREAM | END_HEADERS, 1, header_block(BAD_TRAILERS[case]))  # type: ignore[arg-type]
    )
    kind, code, _ = first_error(sock)
    assert kind in ("RST_STREAM", "GOAWAY") and code == E.PROTOCOL_ERROR


def test_valid_trailers_are_accepted(connect: object) -> None:
    sock = connect()  # type: ignore[operator]
    post = [(":method", "POST"), *REQUEST[1:]]
    sock.sendall(
        headers(1, post, END_HEADERS)  # type: ignore[arg-type]
        + raw_frame(DATA, 0, 1, b"abc")
        + raw_frame(HEADERS, END_STREAM | END_HEADERS, 1, header_block([("x-t", "1")]))  # type: ignore[list-item]
    )
    frames = read_frames(sock, lambda f: isinstance(f, DataFrame) and "END_STREAM" in f.flags)
    assert not [f for f in frames if type(f).__name__ in ("RstStreamFrame", "GoAwayFrame")]
    # answered to the end (read_frames also returns on a timeout or a close)
    last = frames[-1] if frames else None
    assert isinstance(last, DataFrame) and last.stream_id == 1 and "END_STREAM" in last.flags


def test_content_length_mismatch(connect: object) -> None:
    sock = connect()  # type: ignore[operator]
    post = [("content-length", "3") if n == ":authority" else (n, v) for n, v in REQUEST]
    fields = [(":method", "POST"), *post[1:], (":authority", "x")]
    sock.sendall(headers(1, fields, END_HEADERS) + raw_frame(DATA, END_STREAM, 1, b"12345"))
    kind, code, _ = first_error(sock)
    assert kind in ("RST_STREAM", "GOAWAY") and code == E.PROTOCOL_ERROR


def test_data_beyond_the_stream_window(connect: object) -> None:
    # The app never reads: the front forwards (and re-opens the window for) at
    # most the worker's request window (256 KiB), so the client may send that
    # plus the 64 KiB stream window, and not one frame more.
    sock = connect()  # type: ignore[operator]
    post = [(":method", "POST"), *REQUEST[1:2], (":path", "/sleep?s=3"), REQUEST[3]]
    sock.sendall(headers(1, post, END_HEADERS))
    for _ in range((256 + 64) // 16 + 1):
        sock.sendall(raw_frame(DATA, 0, 1, b"x" * 16384))
    kind, code, _ = first_error(sock)
    assert kind in ("RST_STREAM", "GOAWAY") and code == E.FLOW_CONTROL_ERROR


def test_plain_connect_is_refused(connect: object) -> None:
    sock = connect()  # type: ignore[operator]
    sock.sendall(headers(1, [(":method", "CONNECT"), (":authority", "example.com:443")]))
    frames = read_frames(sock, lambda f: isinstance(f, HeadersFrame))
    assert any(isinstance(f, HeadersFrame) and f.stream_id == 1 for f in frames)


def test_zero_window_stall_is_reset(connect: object) -> None:
    sock = connect()  # type: ignore[operator]
    sock.sendall(settings((0x4, 0)) + headers(1))
    kind, code, sid = first_error(sock, timeout=5)
    assert (kind, code, sid) == ("RST_STREAM", E.CANCEL, 1)


def test_rapid_reset_gets_enhance_your_calm(connect: object) -> None:
    sock = connect()  # type: ignore[operator]
    burst = b"".join(
        headers(sid) + raw_frame(RST, 0, sid, struct.pack(">I", E.CANCEL))
        for sid in range(1, 2 * 260, 2)
    )
    sock.sendall(burst)
    assert first_error(sock)[:2] == ("GOAWAY", E.ENHANCE_YOUR_CALM)


@pytest.mark.parametrize(
    "flood",
    [
        raw_frame(PING, 0, 0, b"12345678") * 60,
        settings((0x3, 100)) * 60,
        headers(1, [(":method", "POST"), *REQUEST[1:]], END_HEADERS) + raw_frame(DATA, 0, 1) * 120,
        # found by the h2 fuzz target: a stream refused or answered in the same
        # read as the flood (the connection is closed by then)
        headers(1, [(":method", "G T"), *REQUEST[1:]]) + raw_frame(PING, 0, 0, b"12345678") * 60,
        headers(1, [(":method", "CONNECT"), (":authority", "a:443")])
        + raw_frame(PING, 0, 0, b"12345678") * 60,
    ],
    ids=["PING", "SETTINGS", "empty DATA", "malformed request, then PING", "CONNECT, then PING"],
)
def test_floods_get_enhance_your_calm(connect: object, flood: bytes) -> None:
    sock = connect()  # type: ignore[operator]
    sock.sendall(flood)
    assert first_error(sock)[:2] == ("GOAWAY", E.ENHANCE_YOUR_CALM)


def test_a_malformed_request_reset_in_the_same_read_leaves_the_connection_working(
    connect: object,
) -> None:
    """Found by the h2 fuzz target: refusing a stream the client had already reset."""
    sock = connect()  # type: ignore[operator]
    reset = raw_frame(RST, 0, 1, struct.pack(">I", E.CANCEL))
    sock.sendall(headers(1, [(":method", "G T"), *REQUEST[1:]]) + reset + headers(3))
    frames = read_frames(sock, lambda f: isinstance(f, DataFrame) and "END_STREAM" in f.flags)
    assert b"".join(f.data for f in frames if isinstance(f, DataFrame)) == b"hello"


def test_too_many_concurrent_streams(connect: object) -> None:
    sock = connect()  # type: ignore[operator]
    slow = [REQUEST[0], REQUEST[1], (":path", "/sleep?s=3"), REQUEST[3]]
    sock.sendall(b"".join(headers(sid, slow) for sid in range(1, 2 * 102, 2)))
    assert first_error(sock) == ("RST_STREAM", E.REFUSED_STREAM, 201)


def test_oversized_header_list(connect: object) -> None:
    sock = connect()  # type: ignore[operator]
    big = [(f"x-h{i}", "v" * 1000) for i in range(70)]  # 70 KiB > 64 KiB
    block = header_block([*REQUEST, *big])  # type: ignore[list-item]
    frames = raw_frame(HEADERS, END_STREAM, 1, block[:16384])
    rest = block[16384:]
    while rest:
        piece, rest = rest[:16384], rest[16384:]
        frames += raw_frame(CONT, 0 if rest else END_HEADERS, 1, piece)
    sock.sendall(frames)
    kind, code, _ = first_error(sock)
    assert kind == "GOAWAY" and code in (E.ENHANCE_YOUR_CALM, E.PROTOCOL_ERROR)


def test_continuation_flood(connect: object) -> None:
    sock = connect()  # type: ignore[operator]
    flood = raw_frame(HEADERS, END_STREAM, 1, header_block(REQUEST)[:2])  # type: ignore[arg-type]
    flood += raw_frame(CONT, 0, 1, b"") * 100
    sock.sendall(flood)
    assert first_error(sock)[:2] == ("GOAWAY", E.PROTOCOL_ERROR)


def test_bad_preface_after_alpn_h2_is_goaway(front: Front, tls_files: TlsFiles) -> None:
    ctx = tls_files.client_context()
    ctx.set_alpn_protocols(["h2"])
    raw = socket.create_connection(("127.0.0.1", front.tls_port), timeout=5)
    with ctx.wrap_socket(raw, server_hostname="localhost") as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        assert first_error(sock)[:2] == ("GOAWAY", E.PROTOCOL_ERROR)


def test_a_good_request_still_works(connect: object) -> None:
    sock = connect()  # type: ignore[operator]
    sock.sendall(headers(1))
    frames = read_frames(sock, lambda f: isinstance(f, DataFrame) and "END_STREAM" in f.flags)
    assert b"".join(f.data for f in frames if isinstance(f, DataFrame)) == b"hello"


_ = ssl  # the TLS connections come from tls_files' contexts
