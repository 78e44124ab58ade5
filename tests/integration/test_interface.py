"""PAGI and ASGI side by side: each row of docs/spec.md's table, on both sides.

Two real servers (pagi-front + one worker each) run the same raw app
(tests/apps/interface_app.py), once declared a PAGI app and once an ASGI app;
both have ``--root-path /api``. Every test asks both and checks that each gets
the contract it was written for.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import h2.events
import httpx
import pytest
from h2.errors import ErrorCodes
from h2_client import H2Client
from harness import Front, Processes, recv_until_close
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

Servers = dict[str, Front]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    groups = {name: Processes(tmp_path_factory.mktemp(name)) for name in ("pagi", "asgi")}
    try:
        yield {
            name: procs.front("--root-path", "/api", app=f"interface_app:{name}_app")
            for name, procs in groups.items()
        }
    finally:
        for procs in groups.values():
            procs.cleanup()


def get_json(front: Front, path: str, **kw: Any) -> Any:
    r = httpx.get(front.url + path, timeout=10, **kw)
    assert r.status_code == 200, r.text
    return r.json()


def seen(front: Front) -> dict[str, Any]:
    result: dict[str, Any] = get_json(front, "/seen")
    return result


def test_auto_honours_the_apps_declaration(servers: Servers) -> None:
    servers["pagi"].wait_for_log(
        r"serving the app through the PAGI interface \(.*declares __pagi_interface__"
    )
    servers["asgi"].wait_for_log(
        r"serving the app through the ASGI interface \(.*declares __pagi_interface__"
    )


def test_version_keys(servers: Servers) -> None:
    pagi = get_json(servers["pagi"], "/scope")
    asgi = get_json(servers["asgi"], "/scope")
    assert pagi["pagi"] == {"version": "0.5", "spec_version": "0.6"} and "asgi" not in pagi
    assert asgi["asgi"] == {"version": "3.0", "spec_version": "2.4"} and "pagi" not in asgi
    # both get the PAGI objects: harmless extra keys for an ASGI app
    for info in (pagi, asgi):
        assert info["pagi.connection"] is True and info["pagi.transport"] is True
        assert info["pagi.channels"] is True  # docs/channels.md


def test_root_path_and_path(servers: Servers) -> None:
    """A proxy stripped /api: PAGI keeps path apart (root_path is the mount,
    like PSGI's SCRIPT_NAME); ASGI and uvicorn put root_path in front of it."""
    pagi = get_json(servers["pagi"], "/items/1")
    asgi = get_json(servers["asgi"], "/items/1")
    assert (pagi["path"], pagi["raw_path"], pagi["root_path"]) == ("/items/1", "/items/1", "/api")
    assert (asgi["path"], asgi["raw_path"], asgi["root_path"]) == (
        "/api/items/1",
        "/api/items/1",
        "/api",
    )


CHANNELS = {"pagi.channels": {"version": "1.0"}}  # the channel layer's extension


def test_extensions(servers: Servers) -> None:
    assert get_json(servers["pagi"], "/scope")["extensions"] == CHANNELS
    assert set(get_json(servers["asgi"], "/scope")["extensions"]) == {
        "http.response.trailers",
        "http.response.pathsend",
        "pagi.channels",
    }


def test_request_events_carry_more_and_more_body(servers: Servers) -> None:
    for front in servers.values():
        keys = get_json(front, "/scope")["request_event_keys"]
        assert keys == ["body", "more", "more_body", "type"]


def test_send_after_the_client_left(servers: Servers) -> None:
    """PAGI: a no-op; ASGI 2.4: an OSError subclass (how Starlette's
    StreamingResponse learns that the client is gone)."""
    for name, expected in (
        ("pagi", "no-op sends after the disconnect"),
        ("asgi", "raised ClientDisconnected"),
    ):
        front = servers[name]
        with socket.create_connection(("127.0.0.1", front.port), timeout=5) as sock:
            sock.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        deadline = time.monotonic() + 10
        while seen(front).get("stream") != expected:
            assert time.monotonic() < deadline, seen(front)
            time.sleep(0.05)


def test_sse_scope(servers: Servers) -> None:
    headers = {"accept": "text/event-stream"}
    with httpx.stream(
        "GET", servers["pagi"].url + "/events/closed", headers=headers, timeout=10
    ) as r:
        assert r.headers["content-type"] == "text/event-stream"
        assert r.read() == b"data: one\n\n"
    # an ASGI app never sees an sse scope: the same request is an http scope
    assert get_json(servers["asgi"], "/scope", headers=headers)["type"] == "http"


def test_sse_without_close_is_an_incomplete_response(servers: Servers) -> None:
    """PAGI 0.6: only sse.close ends a stream cleanly; an app that just returns
    leaves it incomplete, and the server never writes the end marker for it."""
    front = servers["pagi"]
    with socket.create_connection(("127.0.0.1", front.port), timeout=5) as sock:
        sock.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        data = recv_until_close(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and b"transfer-encoding: chunked" in head
    assert b"data: one\n\n" in body and not body.endswith(b"0\r\n\r\n")
    front.wait_for_log(r"returned without sse\.close for GET /events")


def ws_url(front: Front, path: str) -> str:
    return f"ws://127.0.0.1:{front.port}{path}"


def test_websocket_close_before_accept(servers: Servers) -> None:
    """ASGI: a close before accept is a 403. PAGI: the send fails (the app
    refuses with an ordinary http.response.* instead)."""
    for name, outcome in (("asgi", "sent"), ("pagi", "raised UnexpectedEvent")):
        with pytest.raises(InvalidStatus) as info:
            connect(ws_url(servers[name], "/ws/deny-close"), open_timeout=5)
        assert info.value.response.status_code == 403
        assert seen(servers[name])["deny-close"] == outcome
    assert info.value.response.body == b"refused"  # the PAGI app's own refusal (last: pagi)


def test_websocket_refusal_response(servers: Servers) -> None:
    """PAGI: http.response.* before accept; ASGI: websocket.http.response.*."""
    for front in servers.values():
        with pytest.raises(InvalidStatus) as info:
            connect(ws_url(front, "/ws/deny-http"), open_timeout=5)
        response = info.value.response
        assert response.status_code == 401 and response.headers["x-why"] == "auth"
        assert response.body == b"who are you"


def test_websocket_app_returns_without_closing(servers: Servers) -> None:
    """PAGI 0.6: close 1011 (server_error); ASGI servers close with 1000."""
    for name, code in (("pagi", 1011), ("asgi", 1000)):
        with connect(ws_url(servers[name], "/ws/return"), open_timeout=5) as ws:
            assert ws.recv(timeout=5) == "bye"
            with pytest.raises(ConnectionClosed) as info:
                ws.recv(timeout=5)
        assert info.value.rcvd is not None and info.value.rcvd.code == code, name


def test_websocket_scope_keys(servers: Servers) -> None:
    with connect(ws_url(servers["pagi"], "/ws/scope"), open_timeout=5) as ws:
        pagi = json.loads(ws.recv(timeout=5))
    with connect(ws_url(servers["asgi"], "/ws/scope"), open_timeout=5) as ws:
        asgi = json.loads(ws.recv(timeout=5))
    resume = {"pagi.resume": {"attempt": 0, "state": None}}  # moves offered (docs/resume.md)
    assert pagi["pagi"]["spec_version"] == "0.6"
    assert pagi["extensions"] == {**CHANNELS, **resume}
    assert pagi["pagi.connection"] is True and pagi["path"] == "/ws/scope"
    assert pagi["max_frame_size"] == 16 << 20 and pagi["max_receive_queue"] == 16 << 20
    assert asgi["extensions"] == {"websocket.http.response": {}, **CHANNELS, **resume}
    assert asgi["path"] == "/api/ws/scope" and "pagi" not in asgi


def test_websocket_access_log_is_one_line_at_the_end(servers: Servers) -> None:
    front = servers["pagi"]
    with connect(ws_url(front, "/ws/scope?log=1"), open_timeout=5) as ws:
        ws.recv(timeout=5)
    line = front.wait_for_log(r'"GET /ws/scope\?log=1 HTTP/1.1" 101 .* close=(\d+)')
    assert line.group(1) == "1000"
    assert len(re.findall(r'"GET /ws/scope\?log=1 HTTP/1.1" 101', front.logs())) == 1


def test_client_leaving_mid_body_is_not_an_app_error(servers: Servers) -> None:
    """The app reads a body the client never finishes: it hears the disconnect
    and returns without a response. Nobody to answer: no ERROR line (uvicorn
    logs nothing either)."""
    for front in servers.values():
        with socket.create_connection(("127.0.0.1", front.port), timeout=5) as sock:
            sock.sendall(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
            time.sleep(0.2)
        deadline = time.monotonic() + 10
        while seen(front).get("body") != "disconnect after 3":
            assert time.monotonic() < deadline, seen(front)
            time.sleep(0.05)
        assert "returned without sending a response" not in front.logs()
        assert "500: the app returned" not in front.logs()


def test_abort_resets_the_connection(servers: Servers) -> None:
    """pagi.connection.abort(detail): the response is never completed and the
    HTTP/1.1 connection is closed; the app sees app_abort and its detail."""
    front = servers["pagi"]
    with socket.create_connection(("127.0.0.1", front.port), timeout=5) as sock:
        sock.sendall(b"GET /abort HTTP/1.1\r\nHost: x\r\n\r\n")
        data = recv_until_close(sock)
    assert not data.endswith(b"0\r\n\r\n") and b"ignored" not in data
    assert seen(front)["abort"] == [False, "app_abort", "enough"]
    front.wait_for_log(r"aborting GET /abort from .*: the app aborted it \(enough\)")


def test_abort_over_http2_resets_only_its_stream(servers: Servers) -> None:
    """Over HTTP/2, pagi.connection.abort(detail) resets the one stream
    (RST_STREAM INTERNAL_ERROR, never END_STREAM); the connection and its other
    streams carry on."""
    front = servers["pagi"]
    conn = H2Client(front.port, None)
    try:
        aborted = conn.request("/abort")
        seen_events = conn.events(
            lambda e: isinstance(e, h2.events.StreamReset) and e.stream_id == aborted
        )
        resets = [e for e in seen_events if isinstance(e, h2.events.StreamReset)]
        assert [(e.stream_id, e.error_code) for e in resets] == [
            (aborted, ErrorCodes.INTERNAL_ERROR)
        ]
        assert not any(
            isinstance(e, h2.events.StreamEnded) and e.stream_id == aborted for e in seen_events
        )
        assert b"ignored" not in conn.records[aborted].body
        headers, body, _ = conn.response(conn.request("/seen"))
        assert headers[b":status"] == b"200"
        assert json.loads(body)["abort"] == [False, "app_abort", "enough"]
    finally:
        conn.close()
    front.wait_for_log(r"aborting GET /abort from .*: the app aborted it \(enough\)")


def test_the_option_decides_for_an_app_that_does_not_say(procs: Processes) -> None:
    """``--interface`` (forwarded by pagi-front to its workers) overrides auto;
    an undeclared raw app is PAGI under auto."""
    auto = procs.front(app="interface_app:app")
    assert "pagi" in get_json(auto, "/scope")
    forced = procs.front(
        "--interface", "asgi", "--socket-dir", str(procs.tmp / "forced"), app="interface_app:app"
    )
    assert get_json(forced, "/scope")["asgi"]["spec_version"] == "2.4"
    forced.wait_for_log(r"serving the app through the ASGI interface \(--interface asgi\)")
