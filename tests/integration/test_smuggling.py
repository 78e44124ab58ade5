"""A corpus of malformed and request-smuggling attempts, written from RFC 9110
and RFC 9112, sent over raw sockets to a real pagi-front on each parser.

Each case lists the statuses the client must get, in order; nothing else may
come back (a smuggled request is never answered: the app's ``/smuggled``
would say 404), and after an error the front closes the connection. A valid
request that arrives in the same read as a malformed one behind it is not
served either (the parser drops what one read completed when that read holds
an error), so such cases accept both outcomes.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest
from harness import Front, Processes

H = b"Host: a\r\n"
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"


def post(*fields: bytes, body: bytes = b"", path: bytes = b"/count") -> bytes:
    return (
        b"POST "
        + path
        + b" HTTP/1.1\r\n"
        + H
        + b"".join(f + b"\r\n" for f in fields)
        + b"\r\n"
        + body
    )


def get(line: bytes = b"GET /hello HTTP/1.1", *fields: bytes, host: bytes = H) -> bytes:
    return line + b"\r\n" + host + b"".join(f + b"\r\n" for f in fields) + b"\r\n"


CL = b"Content-Length: "
TE = b"Transfer-Encoding: "
CHUNKED_0 = b"0\r\n\r\n"

CORPUS: list[tuple[str, bytes, list[int]]] = [
    # --- Content-Length / Transfer-Encoding combinations (RFC 9112 6.1, 6.3) ---
    ("CL.TE", post(CL + b"6", TE + b"chunked", body=b"0\r\n\r\nG" + SMUGGLED), [400]),
    ("TE.CL", post(TE + b"chunked", CL + b"3", body=b"8\r\nSMUGGLED\r\n0\r\n\r\n"), [400]),
    ("CL.CL different", post(CL + b"0", CL + b"44", body=SMUGGLED), [400]),
    ("CL.CL same", post(CL + b"3", CL + b"3", body=b"abc"), [400]),
    ("CL list", post(CL + b"3, 3", body=b"abc"), [400]),
    ("CL plus sign", post(CL + b"+3", body=b"abc"), [400]),
    ("CL negative", post(CL + b"-1", body=b"a"), [400]),
    ("CL hex", post(CL + b"0x3", body=b"abc"), [400]),
    ("CL inner space", post(CL + b"1 1", body=b"a" * 11), [400]),
    ("CL overflow", post(CL + b"99999999999999999999999", body=b""), [400]),
    ("TE on HTTP/1.0", get(b"POST /count HTTP/1.0", TE + b"chunked") + CHUNKED_0, [400]),
    # --- Transfer-Encoding obfuscations ---
    ("TE xchunked", post(TE + b"xchunked", body=CHUNKED_0), [501]),
    ("TE chunked-false", post(TE + b"chunked-false", body=CHUNKED_0), [501]),
    ("TE quoted", post(TE + b'"chunked"', body=CHUNKED_0), [501]),
    ("TE chunked then identity", post(TE + b"chunked, identity", body=CHUNKED_0), [501]),
    ("TE twice", post(TE + b"chunked", TE + b"chunked", body=CHUNKED_0), [501]),
    ("TE then gzip field", post(TE + b"chunked", TE + b"gzip", body=CHUNKED_0), [501]),
    ("TE space before colon", post(b"Transfer-Encoding : chunked", body=CHUNKED_0), [400]),
    ("TE vertical tab", post(TE + b"\x0bchunked", body=CHUNKED_0), [400]),
    ("TE NUL", post(TE + b"chunked\x00", body=CHUNKED_0), [400]),
    ("TE folded", post(b"Transfer-Encoding:", b" chunked", body=CHUNKED_0), [400]),
    ("TE empty", post(TE[:-1], body=CHUNKED_0), [501]),
    ("TE upper case", post(b"TRANSFER-ENCODING: CHUNKED", body=b"3\r\nabc\r\n0\r\n\r\n"), [200]),
    ("TE tab OWS", post(b"Transfer-Encoding:\tchunked\t", body=b"3\r\nabc\r\n0\r\n\r\n"), [200]),
    ("TE empty element", post(TE + b", chunked", body=b"3\r\nabc\r\n0\r\n\r\n"), [200]),
    # an unknown field named like TE does not frame: the "body" is the next request
    ("TE underscore", post(b"Transfer_Encoding: chunked", body=b"3\r\nabc\r\n0\r\n\r\n"), [0, 400]),
    # --- obs-fold, bare CR / LF, control characters (RFC 9112 2.2, 5.2) ---
    ("obs-fold", get(b"GET /hello HTTP/1.1", b"X: a", b" b"), [400]),
    ("bare LF line", b"GET /hello HTTP/1.1\nHost: a\n\n", [400]),
    ("bare LF in a field", b"GET /hello HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", [400]),
    ("bare CR in a field", get(b"GET /hello HTTP/1.1", b"X: a\rb"), [400]),
    ("NUL in a value", get(b"GET /hello HTTP/1.1", b"X: a\x00b"), [400]),
    ("DEL in a value", get(b"GET /hello HTTP/1.1", b"X: a\x7fb"), [400]),
    ("CTL in the target", get(b"GET /he\x01llo HTTP/1.1"), [400]),
    ("space in a name", get(b"GET /hello HTTP/1.1", b"X Y: a"), [400]),
    # --- chunked framing (RFC 9112 7.1) ---
    ("chunk size negative", post(TE + b"chunked", body=b"-3\r\nabc\r\n0\r\n\r\n"), [400]),
    ("chunk size 0x", post(TE + b"chunked", body=b"0x3\r\nabc\r\n0\r\n\r\n"), [400]),
    ("chunk size overflow", post(TE + b"chunked", body=b"1" * 17 + b"\r\na\r\n"), [400]),
    ("chunk size not hex", post(TE + b"chunked", body=b"g\r\nabc\r\n0\r\n\r\n"), [400]),
    ("chunk data too long", post(TE + b"chunked", body=b"3\r\nabcd\r\n0\r\n\r\n"), [400]),
    ("chunk LF only", post(TE + b"chunked", body=b"3\nabc\n0\n\n"), [400]),
    ("chunk BWS before ;", post(TE + b"chunked", body=b"3 ;x=1\r\nabc\r\n0\r\n\r\n"), [200]),
    (
        "chunk size leading zeros",
        post(TE + b"chunked", body=b"0" * 25 + b"3\r\nabc\r\n0\r\n\r\n"),
        [200],
    ),
    ("trailer CL", post(TE + b"chunked", body=b"0\r\nContent-Length: 5\r\n\r\n"), [400]),
    # --- request-line oddities (RFC 9112 3) ---
    ("runs of spaces", get(b"GET  /hello   HTTP/1.1"), [200]),
    ("tab separator", get(b"GET\t/hello HTTP/1.1"), [400]),
    ("garbage after version", get(b"GET /hello HTTP/1.1 x"), [400]),
    ("lower-case method", get(b"get /hello HTTP/1.1"), [501]),
    ("unknown method", get(b"BREW /hello HTTP/1.1"), [501]),
    ("over-long method", get(b"A" * 40 + b" /hello HTTP/1.1"), [501]),
    ("relative target", get(b"GET hello HTTP/1.1"), [400]),
    ("fragment", get(b"GET /hello#x HTTP/1.1"), [400]),
    ("absolute-form", get(b"GET http://a/hello HTTP/1.1"), [200]),
    ("HTTP/1.2", get(b"GET /hello HTTP/1.2"), [200]),
    ("HTTP/2.0", get(b"GET /hello HTTP/2.0"), [505]),
    ("HTTP/0.9", get(b"GET /hello HTTP/0.9"), [505]),
    ("HTTP/3.1", get(b"GET /hello HTTP/3.1"), [505]),
    ("lower-case http", get(b"GET /hello http/1.1"), [400]),
    # --- Host (RFC 9112 3.2) ---
    ("no Host", get(b"GET /hello HTTP/1.1", host=b""), [400]),
    ("two Hosts", get(b"GET /hello HTTP/1.1", b"Host: b"), [400]),
    ("Host userinfo", get(host=b"Host: user@a\r\n"), [400]),
    ("Host space", get(host=b"Host: a b\r\n"), [400]),
    ("Host bad port", get(host=b"Host: a:x\r\n"), [400]),
    ("Host IPv6", get(host=b"Host: [::1]:8000\r\n"), [200]),
    ("Host empty", get(host=b"Host:\r\n"), [200]),
    # --- pipelined smuggling: the second request must never be answered ---
    (
        "valid then malformed",
        get() + b"GET /x HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n" + SMUGGLED,
        [0, 400],
    ),
    ("close then more", get(b"GET /hello HTTP/1.1", b"Connection: close") + SMUGGLED, [200]),
    ("HTTP/1.0 then more", b"GET /hello HTTP/1.0\r\n\r\n" + SMUGGLED, [200]),
    ("body too short", post(CL + b"10", body=b"abc") + b"", [-1]),
    ("CL then smuggled in body", post(CL + str(len(SMUGGLED)).encode(), body=SMUGGLED), [200]),
]


@pytest.fixture(scope="module", params=["h11", "httptools"])
def front(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Front]:
    procs = Processes(tmp_path_factory.mktemp(f"smuggling-{request.param}"))
    try:
        yield procs.front("--http", request.param, "--keepalive-timeout", "1", app="basic:app")
    finally:
        procs.cleanup()


_HEAD = re.compile(rb"HTTP/1\.1 (\d{3}) [^\r\n]*\r\n(.*?)\r\n\r\n", re.S)


def statuses_of(port: int, data: bytes, expected: int) -> tuple[list[int], bool]:
    """Send ``data``; collect response statuses until the server closes, or
    until ``expected`` responses came and nothing more within 0.5 s."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(data)
    buf = b""
    statuses: list[int] = []
    closed = False
    with sock:
        while True:
            sock.settimeout(0.5 if len(statuses) >= expected else 5)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                if len(statuses) >= expected:
                    break
                raise
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            buf += chunk
            while (match := _HEAD.match(buf)) is not None:
                length = re.search(rb"(?i)content-length: (\d+)", match[2])
                end = match.end() + (int(length[1]) if length else 0)
                if len(buf) < end:
                    break
                statuses.append(int(match[1]))
                buf = buf[end:]
    assert not buf, f"unparsed bytes: {buf[:200]!r}"
    return statuses, closed


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in CORPUS], ids=[c[0] for c in CORPUS])
def test_corpus(front: Front, data: bytes, expected: list[int]) -> None:
    if expected == [-1]:  # the client stops mid-body: no response until it goes away
        statuses, closed = statuses_of(front.port, data, 0)
        assert statuses == [] and not closed
        return
    if expected[0] == 0:  # 200 for the valid request first, if it came in a read of its own
        statuses, closed = statuses_of(front.port, data, 1)
        assert statuses in ([200, *expected[1:]], expected[1:])
        assert closed
        return
    statuses, closed = statuses_of(front.port, data, len(expected))
    assert statuses == expected
    assert 404 not in statuses  # /smuggled never reached the app
    if expected[-1] >= 400:
        assert closed, "the connection stays open after an error"
