"""WebSocket over HTTP/2 (RFC 8441) with real processes: h2c and TLS."""

from __future__ import annotations

import json

import pytest
from h2_client import H2Client
from h2_websocket import H2WS
from harness import Front, Processes
from tls_certs import TlsFiles, tls_front
from ws_raw import BINARY, CLOSE, PING, PONG, TEXT

MODES = ["h2c", "tls"]


def start(procs: Processes, tls_files: TlsFiles, *args: str, app: str = "ws_e2e_app:app") -> Front:
    return tls_front(procs, tls_files, *args, app=app)


def client(front: Front, tls_files: TlsFiles, mode: str) -> H2Client:
    if mode == "tls":
        return H2Client(front.tls_port, tls_files.client_context())
    return H2Client(front.port)


@pytest.mark.parametrize("mode", MODES)
def test_echo_and_close(procs: Processes, tls_files: TlsFiles, mode: str) -> None:
    front = start(procs, tls_files)
    conn = client(front, tls_files, mode)
    try:
        ws = H2WS(
            conn, "/echo", protocols="chat, superchat", scheme="https" if mode == "tls" else "http"
        )
        assert ws.status == 200
        assert ws.headers[b"sec-websocket-protocol"] == b"chat"
        assert b"sec-websocket-accept" not in ws.headers and b"upgrade" not in ws.headers
        ws.send_frame(TEXT, "héllo".encode())
        reply = ws.recv_frame()
        assert (reply.opcode, reply.text) == (TEXT, "héllo")
        ws.send_frame(BINARY, b"\x00\x01" * 40_000)  # beyond one DATA frame
        reply = ws.recv_frame()
        assert (reply.opcode, reply.payload) == (BINARY, b"\x00\x01" * 40_000)
        ws.send_frame(PING, b"p")
        assert ws.recv_frame().opcode == PONG
        # A second WebSocket and a plain request share the connection meanwhile.
        other = H2WS(conn, "/echo")
        other.send_frame(TEXT, b"two")
        assert other.recv_frame().text == "two"
        _, body, _ = conn.response(conn.request("/page"))
        assert body.startswith(b"<")
        ws.close(1000)
        closing = ws.recv_frame()
        assert (closing.opcode, closing.close_code) == (CLOSE, 1000)
        if not ws.ended:
            conn.events(lambda e: ws.ended)
        assert ws.ended
    finally:
        conn.close()


def test_scope_over_http2(procs: Processes, tls_files: TlsFiles) -> None:
    front = start(procs, tls_files)
    conn = client(front, tls_files, "tls")
    try:
        ws = H2WS(conn, "/scope", scheme="https")
        assert ws.status == 200
        scope = json.loads(ws.recv_frame().text)
        assert scope["http_version"] == "2"
        assert scope["scheme"] == "wss" and scope["has_tls"] is True
    finally:
        conn.close()


def test_denials_and_bad_handshakes(procs: Processes, tls_files: TlsFiles) -> None:
    front = start(procs, tls_files)
    conn = client(front, tls_files, "h2c")
    try:
        assert H2WS(conn, "/deny").status == 403
        denied = H2WS(conn, "/deny401")
        assert denied.status == 401 and denied.headers[b"x-app"] == b"1"
        old = H2WS(conn, "/echo", version="8")
        assert old.status == 426 and old.headers[b"sec-websocket-version"] == b"13"
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        ("unmasked", 1002),
        ("bad-utf8", 1007),
        ("too-big", 1009),
    ],
)
def test_protocol_enforcement(
    procs: Processes, tls_files: TlsFiles, frames: str, code: int
) -> None:
    front = start(procs, tls_files, "--ws-max-size", "1K")
    conn = client(front, tls_files, "h2c")
    try:
        ws = H2WS(conn, "/echo")
        assert ws.status == 200
        if frames == "unmasked":
            ws.send(bytes([0x81, 0x02]) + b"hi")
        elif frames == "bad-utf8":
            ws.send_frame(TEXT, b"\xff\xfe")
        else:
            ws.send_frame(BINARY, b"x" * 2048)
        reply = ws.recv_frame()
        assert (reply.opcode, reply.close_code) == (CLOSE, code)
    finally:
        conn.close()


def test_deflate_negotiated(procs: Processes, tls_files: TlsFiles) -> None:
    front = start(procs, tls_files)
    conn = client(front, tls_files, "h2c")
    try:
        ws = H2WS(conn, "/echo", extensions="permessage-deflate; client_max_window_bits")
        assert ws.status == 200
        assert ws.headers[b"sec-websocket-extensions"].startswith(b"permessage-deflate")
    finally:
        conn.close()
