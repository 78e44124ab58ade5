"""HTTP/1.1 end to end: a real front, a real worker, real clients; both parsers."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest
from harness import Processes, recv_until_close


@pytest.fixture
def server(procs: Processes, http_parser: str):  # type: ignore[no-untyped-def]
    return procs.front("--http", http_parser, app="basic:app", workers=1)


def read_response(sock: socket.socket, buf: bytearray) -> tuple[bytes, dict[bytes, bytes], bytes]:
    """Read exactly one response (content-length or chunked) from ``sock``."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed mid-head: {bytes(buf)!r}"
        buf += chunk
    head, _, _rest = bytes(buf).partition(b"\r\n\r\n")
    del buf[: len(head) + 4]
    lines = head.split(b"\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if b"content-length" in headers:
        n = int(headers[b"content-length"])
        while len(buf) < n:
            buf += sock.recv(65536)
        body = bytes(buf[:n])
        del buf[:n]
    elif headers.get(b"transfer-encoding") == b"chunked":
        body = b""
        while True:
            while b"\r\n" not in buf:
                buf += sock.recv(65536)
            size_line, _, _ = bytes(buf).partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            del buf[: len(size_line) + 2]
            if size == 0:
                while b"\r\n\r\n" not in buf and not buf.startswith(b"\r\n"):
                    buf += sock.recv(65536)
                end = 2 if buf.startswith(b"\r\n") else buf.index(b"\r\n\r\n") + 4
                del buf[:end]
                break
            while len(buf) < size + 2:
                buf += sock.recv(65536)
            body += bytes(buf[:size])
            del buf[: size + 2]
    else:
        body = b""
    return lines[0], headers, body


def test_hello_with_date_and_server_headers(server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.get(server.url + "/hello")
    assert r.status_code == 200
    assert r.text == "hello"
    assert r.headers["server"] == "pagi"
    assert r.headers["date"].endswith("GMT")


def test_scope_fields(server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.get(server.url + "/scope/caf%C3%A9/%FF?x=1&y=%20", headers={"X-Thing": "v"})
    info = r.json()
    assert info["type"] == "http"
    assert info["method"] == "GET"
    assert info["http_version"] == "1.1"
    assert info["scheme"] == "http"
    assert info["path"].startswith("/scope/café/")
    # undecodable bytes survive the path decoding (surrogateescape rule)
    assert info["path_bytes"][-1] == 0xFF
    assert info["raw_path"] == "/scope/caf%C3%A9/%FF"
    assert info["query_string"] == "x=1&y=%20"
    assert info["root_path"] == ""
    assert info["client"][0] == "127.0.0.1"
    assert info["server"] == ["127.0.0.1", server.port]
    assert info["pagi"] == {"version": "0.5", "spec_version": "0.6"}
    assert "asgi" not in info  # a PAGI app: --interface auto finds no ASGI framework
    assert ["x-thing", "v"] in info["headers"]
    assert info["has_connection"] and info["has_transport"]


def test_cookie_headers_are_joined(server) -> None:  # type: ignore[no-untyped-def]
    raw = (
        b"GET /scope HTTP/1.1\r\nHost: x\r\nCookie: a=1\r\nCookie: b=2\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(raw)
        _, _, body = read_response(s, bytearray())
    headers = json.loads(body)["headers"]
    assert [h for h in headers if h[0] == "cookie"] == [["cookie", "a=1; b=2"]]


def test_keep_alive_reuses_one_connection(server) -> None:  # type: ignore[no-untyped-def]
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        buf = bytearray()
        for _ in range(5):
            s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            status, headers, body = read_response(s, buf)
            assert status == b"HTTP/1.1 200 OK"
            assert body == b"hello"
            assert headers.get(b"connection") != b"close"


def test_100_pipelined_requests_answered_in_order(server) -> None:  # type: ignore[no-untyped-def]
    reqs = b"".join(
        b"GET /stream?n=1&size=%d HTTP/1.1\r\nHost: x\r\n\r\n" % (i + 1) for i in range(100)
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(reqs)
        buf = bytearray()
        for i in range(100):
            status, _, body = read_response(s, buf)
            assert status == b"HTTP/1.1 200 OK"
            assert len(body) == i + 1, f"response {i} out of order"


def test_chunked_request_body_is_dechunked(server) -> None:  # type: ignore[no-untyped-def]
    raw = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n"
        b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: t\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(raw)
        status, headers, body = read_response(s, bytearray())
    assert status == b"HTTP/1.1 200 OK"
    assert headers[b"transfer-encoding"] == b"chunked"  # app gave no content-length
    assert body == b"hello world"


def test_http10_gets_no_chunking_and_close(server) -> None:  # type: ignore[no-untyped-def]
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GET /stream?n=3&size=2 HTTP/1.0\r\n\r\n")
        data = recv_until_close(s)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200")
    assert b"chunked" not in head.lower()
    assert body == b"AABBCC"


def test_http10_keep_alive_when_asked_and_length_known(server) -> None:  # type: ignore[no-untyped-def]
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        buf = bytearray()
        for _ in range(2):
            s.sendall(b"GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            _, headers, body = read_response(s, buf)
            assert body == b"hello"
            assert headers[b"connection"].lower() == b"keep-alive"


def test_head_has_headers_but_no_body(server) -> None:  # type: ignore[no-untyped-def]
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(
            b"HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n"
            b"Connection: close\r\n\r\n"
        )
        data = recv_until_close(s)
    first, _, rest = data.partition(b"\r\n\r\n")
    assert b"content-length: 5" in first.lower()
    assert rest.startswith(b"HTTP/1.1 200 OK")  # no body bytes between the two responses
    assert rest.endswith(b"hello")


def test_expect_100_continue_sent_when_app_reads(server) -> None:  # type: ignore[no-untyped-def]
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(
            b"POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        interim = s.recv(100)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(b"abcde")
        status, _, body = read_response(s, bytearray())
    assert status == b"HTTP/1.1 200 OK"
    assert body == b"5"


def test_expect_100_continue_not_sent_when_app_does_not_read(server) -> None:  # type: ignore[no-untyped-def]
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(
            b"POST /no-read HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        status, _, body = read_response(s, bytearray())
    assert status == b"HTTP/1.1 200 OK"
    assert body == b"not reading your body"


def test_response_trailers(server) -> None:  # type: ignore[no-untyped-def]
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GET /trailers HTTP/1.1\r\nHost: x\r\nTE: trailers\r\nConnection: close\r\n\r\n")
        data = recv_until_close(s)
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    assert body == b"4\r\ndata\r\n0\r\nx-checksum: abc\r\n\r\n"


def test_file_response_streamed_by_the_front(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "data.bin"
    payload = bytes(range(256)) * 1000
    path.write_bytes(payload)
    r = httpx.get(server.url + "/file", params={"path": str(path)})
    assert r.status_code == 200
    assert r.content == payload
    r = httpx.get(server.url + "/file", params={"path": str(path), "offset": 10, "length": 100})
    assert r.content == payload[10:110]


def test_file_response_missing_file_is_an_app_error(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = httpx.get(server.url + "/file", params={"path": str(tmp_path / "nope")})
    assert r.status_code == 500
    assert "nope" in server.logs()


def test_header_with_crlf_is_refused_by_send(server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.get(server.url + "/bad-header")
    assert r.status_code == 200
    assert "x-evil" in r.text or "header" in r.text.lower()
    assert "set-cookie" not in r.headers


def test_access_log_line(server) -> None:  # type: ignore[no-untyped-def]
    httpx.get(server.url + "/hello?q=1")
    server.wait_for_log(r'"GET /hello\?q=1 HTTP/1\.1" 200 5 .*worker=')


def test_streamed_response_arrives_incrementally(server) -> None:  # type: ignore[no-untyped-def]
    with httpx.stream("GET", server.url + "/stream?n=5&size=3&delay=0.2") as r:
        started = time.monotonic()
        first = next(r.iter_raw())
        assert time.monotonic() - started < 0.5
        assert first.startswith(b"AAA")
