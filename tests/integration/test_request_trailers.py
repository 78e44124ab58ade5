"""Request trailers (HTTP/1.1 chunked, HTTP/2 trailing HEADERS) are checked, then dropped.

PAGI::Spec::Www has no receive event for request trailers (``http.request``
carries ``body`` and ``more`` only; ASGI is the same), so the front ends the
body where the trailer section ends and delivers nothing else: the app sees
exactly the body events, no trailer field ever joins the request headers, and
the connection goes on (docs/http1.md, docs/http2.md). Malformed trailers are
still refused (HTTP/1.1: tests/integration/test_smuggling.py; HTTP/2:
test_http2_conformance.py, "trailers without END_STREAM" and pseudo-headers).
"""

from __future__ import annotations

import json
import socket

import pytest
from h2_client import H2Client
from harness import Processes
from tls_certs import TlsFiles, tls_front


def _check(log: dict[str, list[list[object]]]) -> None:
    events = log["events"]
    assert all(e[0] == "http.request" for e in events), events
    assert "".join(str(e[1]) for e in events) == "hello world"
    assert [e[2] for e in events][-1] is False and all(e[2] for e in events[:-1])
    assert "x-checksum" not in log["header_names"] and "trailer" in log["header_names"]


def _read_one(sock: socket.socket, buf: bytearray) -> bytes:
    """The body of one content-length response from ``sock``."""
    while b"\r\n\r\n" not in buf:
        buf += sock.recv(65536)
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(rest) < length:
        rest += sock.recv(65536)
    del buf[: len(head) + 4 + length]
    return rest[:length]


def test_http1_chunked_trailers_are_dropped_and_the_connection_goes_on(
    procs: Processes, http_parser: str
) -> None:
    front = procs.front("--http", http_parser, app="basic:app")
    request = (
        b"POST /receive-log HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Trailer: x-checksum\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-checksum: abc\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", front.port), timeout=10) as sock:
        buf = bytearray()
        sock.sendall(request + request)  # pipelined: the trailer section ends the first
        for _ in range(2):
            _check(json.loads(_read_one(sock, buf)))


@pytest.mark.parametrize("mode", ["h2c", "tls"])
def test_http2_request_trailers_are_dropped_and_end_the_request(
    procs: Processes, tls_files: TlsFiles, mode: str
) -> None:
    front = tls_front(procs, tls_files)
    if mode == "tls":
        conn = H2Client(front.tls_port, tls_files.client_context())
    else:
        conn = H2Client(front.port)
    try:
        for _ in range(2):  # a second stream on the same connection is served alike
            sid = conn.request(
                "/receive-log", "POST", b"hello", headers=[("trailer", "x-checksum")], end=False
            )
            conn.send_body(sid, b" world", end=False)
            conn.conn.send_headers(sid, [("x-checksum", "abc")], end_stream=True)
            conn.flush()
            headers, body, _ = conn.response(sid)
            assert headers[b":status"] == b"200"
            _check(json.loads(body))
    finally:
        conn.close()
