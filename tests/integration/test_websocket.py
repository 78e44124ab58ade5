"""WebSocket end to end: a real front and worker, the ``websockets`` library as client.

The happy paths (text, binary, 16 MiB messages, subprotocols, extra headers,
compression), the handshake's answers (403, the app's own 401, 400, 426,
504), how the app's close / return / raise reach the client, keepalive, the
hand-off from HTTP/1.1 (both parser backends, pipelined requests, bytes that
arrive with the upgrade request) and the access log.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from harness import Front, Processes, run_command
from pagi.frontend.config import FrontConfig
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect
from ws_raw import CLOSE, PING, TEXT, RawWS, close_payload, frame
from ws_recorded import events, wait_event

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    procs = Processes(tmp_path_factory.mktemp("ws"))
    try:
        yield procs.front("--ws-handshake-timeout", "1", app="ws_e2e_app:app")
    finally:
        procs.cleanup()


def ws_url(front: Front, path: str) -> str:
    return f"ws://127.0.0.1:{front.port}{path}"


@pytest.fixture(autouse=True)
def _clear(front: Front) -> None:
    events(front)


# --- messages ---------------------------------------------------------------------


@pytest.mark.parametrize("parser", ["h11", "httptools"])
def test_text_and_binary_echo_with_either_parser(procs: Processes, parser: str) -> None:
    front = procs.front("--http", parser, app="ws_e2e_app:app")
    with connect(ws_url(front, "/echo")) as ws:
        ws.send("hello ☃")
        assert ws.recv() == "hello ☃"
        ws.send(b"\x00\x01\xfe\xff")
        assert ws.recv() == b"\x00\x01\xfe\xff"
        ws.send("")
        assert ws.recv() == ""
    assert wait_event(front, "/echo")["code"] == 1000


@pytest.mark.parametrize("compression", ["deflate", None])
def test_16_mib_messages_both_ways(front: Front, compression: str | None) -> None:
    binary = bytes(range(256)) * (16 * MiB // 256)
    text = "0123456789abcdef" * (MiB)
    with connect(ws_url(front, "/echo"), max_size=None, compression=compression) as ws:
        ws.send(binary)
        assert ws.recv() == binary
        ws.send(text)
        assert ws.recv() == text


def test_fragmented_message_from_the_client_is_reassembled(front: Front) -> None:
    with connect(ws_url(front, "/echo")) as ws:
        ws.send(iter(["frag", "mented ", "☃"]))
        assert ws.recv() == "fragmented ☃"


def test_compression_is_negotiated_and_works(front: Front) -> None:
    payload = json.dumps([{"id": i, "name": "x" * 50} for i in range(5000)])
    with connect(ws_url(front, "/echo"), max_size=None) as ws:
        assert ws.response.headers["sec-websocket-extensions"].startswith("permessage-deflate")
        for _ in range(3):
            ws.send(payload)
            assert ws.recv() == payload


def test_compression_can_be_turned_off(procs: Processes) -> None:
    front = procs.front("--no-ws-per-message-deflate", app="ws_e2e_app:app")
    with connect(ws_url(front, "/echo")) as ws:
        assert "sec-websocket-extensions" not in ws.response.headers
        ws.send("plain")
        assert ws.recv() == "plain"


def test_subprotocol_and_extra_headers(front: Front) -> None:
    with connect(ws_url(front, "/echo?headers=1"), subprotocols=["chat.v2", "chat.v1"]) as ws:
        assert ws.subprotocol == "chat.v2"
        assert ws.response.headers["x-extra"] == "yes"
        assert ws.response.headers["server"] == "pagi"
    ws2 = RawWS(front.port, "/echo?subprotocol=chat.v1", protocols="chat.v2, chat.v1")
    assert ws2.headers["sec-websocket-protocol"] == "chat.v1"
    ws2.close()


def test_no_subprotocol_offered_means_none(front: Front) -> None:
    with connect(ws_url(front, "/echo")) as ws:
        assert ws.subprotocol is None
        assert "sec-websocket-protocol" not in ws.response.headers


# --- the handshake's answers -------------------------------------------------------


def test_close_before_accept_is_403(front: Front) -> None:
    with pytest.raises(InvalidStatus) as info:
        connect(ws_url(front, "/deny"))
    assert info.value.response.status_code == 403


def test_denial_with_the_apps_own_response(front: Front) -> None:
    with pytest.raises(InvalidStatus) as info:
        connect(ws_url(front, "/deny401"))
    response = info.value.response
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="ws"'
    assert response.headers["x-app"] == "1"
    assert response.body == b"who are you?"


def test_unsupported_version_is_426(front: Front) -> None:
    ws = RawWS(front.port, version="8", expect=426)
    assert ws.headers["sec-websocket-version"] == "13"
    ws.close()


@pytest.mark.parametrize("key", ["", "not base64!", "c2hvcnQ="])
def test_bad_key_is_400(front: Front, key: str) -> None:
    ws = RawWS(front.port, key=key, expect=400)
    assert b"Sec-WebSocket-Key" in ws.body()


def test_malformed_subprotocol_list_is_400(front: Front) -> None:
    RawWS(front.port, protocols="good, b@d", expect=400).close()


def test_app_that_never_answers_gets_504(front: Front) -> None:
    started = time.monotonic()
    ws = RawWS(front.port, "/stall", expect=504)
    assert 0.9 < time.monotonic() - started < 5
    ws.close()


def test_upgrade_with_another_method_is_plain_http(front: Front) -> None:
    with socket.create_connection(("127.0.0.1", front.port)) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Content-Length: 0\r\n\r\n"
        )
        assert sock.recv(65536).startswith(b"HTTP/1.1 404 ")  # the app's http route


@pytest.mark.parametrize("parser", ["h11", "httptools"])
def test_pipelined_request_then_upgrade_with_a_frame_in_the_same_write(
    procs: Processes, parser: str
) -> None:
    """The upgrade is served after the request before it; the frame that came
    with it (against the RFC, but seen in the wild) is not lost."""
    front = procs.front("--http", parser, app="ws_e2e_app:app")
    with socket.create_connection(("127.0.0.1", front.port), timeout=5) as sock:
        sock.sendall(
            b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            + frame(TEXT, b"early bird")
        )
        data = b""
        while b"early bird" not in data:
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nHTTP/1.1 101 Switching Protocols\r\n" in data
    assert b"sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in data


# --- closing -----------------------------------------------------------------------


def test_app_close_code_and_reason_reach_the_client(front: Front) -> None:
    with (
        connect(ws_url(front, "/close?code=4000&reason=bye+now")) as ws,
        pytest.raises(ConnectionClosed) as info,
    ):
        ws.recv()
    assert info.value.rcvd is not None
    assert (info.value.rcvd.code, info.value.rcvd.reason) == (4000, "bye now")
    event = wait_event(front, "/close")
    assert (event["code"], event["reason"]) == (4000, "bye now")  # the client's echo
    # the app's sends after its close were no-ops: nothing reached the client
    # (the close frame was the first frame) and the worker is still in service
    raw = RawWS(front.port, "/close?code=1000")
    before, close = raw.recv_close()
    assert close is not None and not before
    assert "dropping worker" not in front.logs()


@pytest.mark.parametrize(("path", "code"), [("/return", 1000), ("/raise", 1011)])
def test_app_ending_closes_the_socket(front: Front, path: str, code: int) -> None:
    with connect(ws_url(front, path)) as ws, pytest.raises(ConnectionClosed) as info:
        ws.recv()
    assert info.value.rcvd is not None and info.value.rcvd.code == code


def test_client_dropping_the_connection_is_1006_for_the_app(front: Front) -> None:
    ws = RawWS(front.port)
    ws.send_frame(TEXT, b"hi")
    assert ws.recv_message() is not None
    ws.close()
    event = wait_event(front, "/echo")
    assert (event["code"], event["reason"]) == (1006, "client_closed")


def test_client_that_ignores_our_close_frame_is_cut_after_the_close_timeout(
    procs: Processes,
) -> None:
    front = procs.front("--ws-close-timeout", "0.3", app="ws_e2e_app:app")
    ws = RawWS(front.port, "/close?code=1000")
    _before, close = ws.recv_close()
    assert close is not None and close.close_code == 1000
    started = time.monotonic()
    assert ws.closed_by_server(timeout=3)
    assert time.monotonic() - started < 2
    event = wait_event(front, "/close")
    assert (event["code"], event["reason"]) == (1006, "client_timeout")


# --- keepalive ---------------------------------------------------------------------


def test_keepalive_pings_and_a_missing_pong_drops_the_connection(front: Front) -> None:
    ws = RawWS(front.port, "/keepalive?interval=0.2&timeout=0.3")
    ping = ws.recv(timeout=2)
    assert ping is not None and ping.opcode == PING  # ... and we never answer it
    started = time.monotonic()
    assert ws.closed_by_server(timeout=3)  # no close frame: 1006 is never sent
    assert time.monotonic() - started < 1.5
    event = wait_event(front, "/keepalive")
    assert (event["code"], event["reason"]) == (1006, "keepalive_timeout")


def test_keepalive_with_a_client_that_answers_stays_open(front: Front) -> None:
    with connect(ws_url(front, "/keepalive?interval=0.1")) as ws:
        time.sleep(0.8)  # several ping rounds, answered by the websockets client
        ws.ping(b"from the client").wait(2)
    event = wait_event(front, "/keepalive")
    assert event["code"] == 1000


def test_server_wide_ping_interval(procs: Processes) -> None:
    front = procs.front(
        "--ws-ping-interval", "0.2", "--ws-ping-timeout", "0.2", app="ws_e2e_app:app"
    )
    ws = RawWS(front.port, "/echo")
    ping = ws.recv(timeout=2)
    assert ping is not None and ping.opcode == PING
    assert ws.closed_by_server(timeout=3)


def test_server_pings_are_on_by_default() -> None:
    """Like uvicorn: every WebSocket is pinged every 20 s, 20 s for the pong."""
    defaults = FrontConfig()
    assert (defaults.ws_ping_interval, defaults.ws_ping_timeout) == (20.0, 20.0)
    text = " ".join(run_command("pagi-front", "--help").stdout.split())
    for name in ("interval", "timeout"):
        assert re.search(
            rf"--ws-ping-{name} SECONDS [^[]*"
            rf"\[env var: PAGI_WS_PING_{name.upper()}; default: 20\.0",
            text,
        )


def test_app_keepalive_overrides_the_server_pings_per_connection(procs: Processes) -> None:
    front = procs.front("--ws-ping-interval", "1", "--ws-ping-timeout", "1", app="ws_e2e_app:app")
    quiet = RawWS(front.port, "/keepalive?interval=0")  # this app turns pinging off
    pinged = RawWS(front.port, "/echo")  # this one says nothing: server default
    ping = pinged.recv(timeout=5)
    assert ping is not None and ping.opcode == PING
    with pytest.raises(TimeoutError):
        quiet.recv(timeout=1.5)  # no ping, and still open
    quiet.send_frame(CLOSE, close_payload(1000))
    closing = quiet.recv(timeout=5)
    assert closing is not None and closing.opcode == CLOSE
    assert wait_event(front, "/keepalive")["code"] == 1000
    assert pinged.closed_by_server(timeout=5)  # it never answered its pings


# --- logging -----------------------------------------------------------------------


def test_access_log_has_the_handshake_and_the_end(front: Front) -> None:
    ws = RawWS(front.port, "/echo?x=1")
    ws.send_frame(TEXT, b"12345")
    assert ws.recv_message() is not None
    ws.send_frame(CLOSE, close_payload(1000))
    ws.recv_close()
    front.wait_for_log(r'"GET /echo\?x=1 HTTP/1\.1" 101 0 [\d.]+ms worker=\S+ #1\n')
    front.wait_for_log(r'"GET /echo\?x=1 HTTP/1\.1" 101 5 [\d.]+ms worker=\S+ #1 close=1000')


# --- the examples --------------------------------------------------------------------


def test_examples(procs: Processes, tmp_path: Path) -> None:
    echo = procs.front(app="examples.websocket_echo.app:app", workers=1)
    assert "new WebSocket" in httpx.get(echo.url + "/").text
    with connect(ws_url(echo, "/ws")) as ws:
        ws.send("ping?")
        assert ws.recv() == "ping?"
        ws.send(b"\x01\x02")
        assert ws.recv() == b"\x01\x02"

    chat = procs.front(
        "--socket-dir", str(tmp_path / "chat"), app="examples.websocket_chat.app:app", workers=1
    )
    assert "new WebSocket" in httpx.get(chat.url + "/").text
    with (
        connect(ws_url(chat, "/ws/pagi?name=ann")) as ann,
        connect(ws_url(chat, "/ws/pagi?name=bob")) as bob,
        connect(ws_url(chat, "/ws/other?name=eve")) as eve,
    ):
        assert ann.recv(timeout=5) == "* ann joined (1 here)"
        assert ann.recv(timeout=5) == "* bob joined (2 here)"
        assert bob.recv(timeout=5) == "* bob joined (2 here)"
        ann.send("hello bob")
        assert bob.recv(timeout=5) == "ann: hello bob"
        assert ann.recv(timeout=5) == "ann: hello bob"
        assert eve.recv(timeout=5) == "* eve joined (1 here)"
        with pytest.raises(TimeoutError):
            eve.recv(timeout=0.2)  # another room hears nothing
    with pytest.raises(InvalidStatus):
        connect(ws_url(chat, "/nowhere"))
