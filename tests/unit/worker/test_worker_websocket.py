"""The worker's websocket scope over a real link, with the test as the front:
the handshake and scope, closing and the scope's ends.

These tests start ``python -m pagi.worker`` on ``tests/apps/ws_worker_app.py``
and speak the link protocol with the codec (helpers in ws_front.py). Messages
and their credit: test_worker_websocket_messages.py. The state machine and
every validation error are tested in-process in test_worker_websocket_events.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from pagi.protocol import Event, Kind
from pagi.protocol import messages as m
from ws_front import Peer, WSFront, deliver, open_ws, wait_file, ws_front_fixture

front = ws_front_fixture  # the WSFront of each test


# --- handshake and scope --------------------------------------------------------------------


def test_accept_with_subprotocol_and_headers(front: WSFront) -> None:
    conn, _ = front.connect()
    open_ws(conn, 1, extras={"subprotocols": ["chat", "superchat"]})
    assert Peer(conn).next() == [
        Kind.EVENT,
        1,
        Event.WS_ACCEPT,
        "superchat",
        [[b"x-app", b"echo"]],
    ]
    open_ws(conn, 2)  # nothing offered: subprotocol None
    assert Peer(conn, 2).next() == [Kind.EVENT, 2, Event.WS_ACCEPT, None, [[b"x-app", b"echo"]]]


def test_websocket_scope_keys(front: WSFront) -> None:
    conn, _ = front.connect("--root-path", "/r")
    open_ws(
        conn,
        1,
        path=b"/scope",
        query=b"a=1",
        extras={"subprotocols": ["x"], "extensions": {"tls": {"v": 1}}, "other": 1},
    )
    peer = Peer(conn)
    assert peer.accept()[3:] == [None, []]
    info = json.loads(peer.text())
    assert info["type"] == "websocket"
    assert "method" not in info and info["has_connection"] is True
    assert info["scheme"] == "ws" and info["http_version"] == "1.1"
    # an ASGI app (the app says so): path and raw_path include root_path
    assert info["path"] == "/r/scope" and info["raw_path"] == "/r/scope"
    assert info["query_string"] == "a=1" and info["root_path"] == "/r"
    assert info["headers"] == [["host", "example"], ["upgrade", "websocket"]]
    assert info["client"] == ["127.0.0.1", 40000] and info["server"] == ["127.0.0.1", 8000]
    assert info["subprotocols"] == ["x"]
    assert info["extensions"] == {"websocket.http.response": {}, "tls": {"v": 1}}
    assert info["state"] == {"ws": True}
    assert "pagi" not in info and info["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert info["max_frame_size"] > 0 and info["max_receive_queue"] > 0
    assert info["has_transport"] is True
    assert peer.next() == [Kind.EVENT, 1, Event.WS_CLOSE, 1000, ""]
    assert peer.next() == [Kind.END, 1, 0, True, ""]


# --- closing -----------------------------------------------------------------------------


def test_disconnect_after_queued_messages(front: WSFront, tmp_path: Path) -> None:
    out = tmp_path / "seen.json"
    conn, _ = front.connect()
    open_ws(conn, 1, query=f"out={out}".encode())
    peer = Peer(conn)
    peer.accept()
    # one write: the message is queued before the disconnect; the app still gets
    # it, its echo is a no-op, then it sees the peer's code and reason; a send
    # after that raises an OSError (an ASGI app: ASGI 2.4)
    conn.send(
        m.event(1, Event.WS_RECEIVE, "x", False),
        m.event(1, Event.WS_DISCONNECT, 4000, "bye"),
    )
    assert peer.next() == [Kind.END, 1, 0, True, ""]
    assert wait_file(out) == {
        "disconnect": {"type": "websocket.disconnect", "code": 4000, "reason": "bye"},
        "after": ["ClientDisconnected"],
    }
    assert peer.credits == []  # nothing is credited once the client is gone


def test_close_message_is_a_1006_disconnect(front: WSFront, tmp_path: Path) -> None:
    out = tmp_path / "seen.json"
    conn, _ = front.connect()
    open_ws(conn, 1, query=f"out={out}".encode())
    peer = Peer(conn)
    peer.accept()
    deliver(conn, 1, "ab", True)  # an incomplete message is dropped
    conn.send(m.close(1, "keepalive_timeout"))
    assert peer.next() == [Kind.END, 1, 0, True, ""]
    seen = wait_file(out)
    assert seen["disconnect"] == {
        "type": "websocket.disconnect",
        "code": 1006,
        "reason": "keepalive_timeout",
    }


def test_link_drop_is_server_shutdown(front: WSFront, tmp_path: Path) -> None:
    out = tmp_path / "seen.json"
    conn, _ = front.connect()
    open_ws(conn, 1, query=f"out={out}".encode())
    Peer(conn).accept()
    conn.sock.close()
    conn2 = front.accept()
    conn2.handshake()
    assert wait_file(out)["disconnect"] == {
        "type": "websocket.disconnect",
        "code": 1006,
        "reason": "server_shutdown",
    }


def test_app_close_then_sends_are_no_ops(front: WSFront, tmp_path: Path) -> None:
    out = tmp_path / "seen.json"
    conn, _ = front.connect()
    open_ws(conn, 1, query=f"out={out}".encode())
    peer = Peer(conn)
    peer.accept()
    deliver(conn, 1, "!close 4001 done")
    assert peer.next() == [Kind.EVENT, 1, Event.WS_CLOSE, 4001, "done"]
    deliver(conn, 1, "late")  # crossed our close: still delivered (echo is a no-op)
    conn.send(m.event(1, Event.WS_DISCONNECT, 4001, "done"))
    assert peer.next() == [Kind.END, 1, 0, True, ""]
    assert wait_file(out)["disconnect"]["code"] == 4001


def test_close_before_accept_denies(front: WSFront, tmp_path: Path) -> None:
    out = tmp_path / "seen.json"
    conn, _ = front.connect()
    open_ws(conn, 1, path=b"/deny", query=f"out={out}&code=1008".encode())
    peer = Peer(conn)
    assert peer.next() == [Kind.EVENT, 1, Event.WS_CLOSE, 1008, ""]
    assert peer.next() == [Kind.END, 1, 0, True, ""]  # the send after it was a no-op
    assert wait_file(out) == {"type": "websocket.disconnect", "code": 1006, "reason": ""}


def test_http_response_denial(front: WSFront, tmp_path: Path) -> None:
    out = tmp_path / "seen.json"
    conn, _ = front.connect()
    open_ws(conn, 1, path=b"/deny-http", query=f"out={out}".encode())
    peer = Peer(conn)
    assert peer.next() == [
        Kind.EVENT,
        1,
        Event.HTTP_RESPONSE_START,
        401,
        [[b"www-authenticate", b"Basic"]],
        False,
    ]
    assert peer.next() == [Kind.EVENT, 1, Event.HTTP_RESPONSE_BODY, b"no ", True]
    assert peer.next() == [Kind.EVENT, 1, Event.HTTP_RESPONSE_BODY, b"entry", False]
    assert peer.next() == [Kind.END, 1, 0, True, ""]  # the accept after it was a no-op
    assert wait_file(out)["code"] == 1006


def test_keepalive_is_forwarded(front: WSFront) -> None:
    conn, _ = front.connect()
    open_ws(conn, 1)
    peer = Peer(conn)
    peer.accept()
    deliver(conn, 1, "!keepalive 5 2.5")
    assert peer.next() == [Kind.EVENT, 1, Event.WS_KEEPALIVE, 5.0, 2.5]
    assert peer.text() == "keepalive set"
    deliver(conn, 1, "!keepalive 0")
    assert peer.next() == [Kind.EVENT, 1, Event.WS_KEEPALIVE, 0.0, None]


def test_invalid_event_raises_in_the_app(front: WSFront) -> None:
    conn, _ = front.connect()
    open_ws(conn, 1)
    peer = Peer(conn)
    peer.accept()
    deliver(conn, 1, "!invalid")
    assert peer.text() == (
        "InvalidEvent: websocket.send: give exactly one of 'bytes' and 'text', not both"
    )


def test_transport_buffered_amount(front: WSFront) -> None:
    conn, _ = front.connect(window=1000)
    open_ws(conn, 1)
    peer = Peer(conn)
    peer.accept()
    deliver(conn, 1, "!bytes 800")
    assert peer.next()[3:] == [b"b" * 800, False]
    assert peer.text() == "sent"
    deliver(conn, 1, "!buffered")
    assert peer.text() == "804"
    conn.send(m.credit(1, 804))
    deliver(conn, 1, "!buffered")
    assert peer.text() == "3"  # the previous reply is still in flight


def test_end_outcomes(front: WSFront) -> None:
    conn, _ = front.connect()
    open_ws(conn, 1)
    peer = Peer(conn)
    peer.accept()
    deliver(conn, 1, "!raise")
    assert peer.next() == [Kind.END, 1, 1, True, "RuntimeError: asked to raise"]
    open_ws(conn, 2, path=b"/no-handshake")
    assert Peer(conn, 2).next() == [Kind.END, 2, 0, False, ""]
    open_ws(conn, 3, path=b"/raise-before-accept", query=b"q=1")
    assert Peer(conn, 3).next() == [Kind.END, 3, 1, False, "ValueError: nope"]
    open_ws(conn, 4)
    peer4 = Peer(conn, 4)
    peer4.accept()
    deliver(conn, 4, "!return")
    assert peer4.next() == [Kind.END, 4, 0, True, ""]
    log = front.log()
    assert "exception in the app for websocket /echo" in log
    assert "exception in the app for websocket /raise-before-accept?q=1" in log
    assert "returned without accepting or closing websocket /no-handshake" in log


def test_many_websockets_at_once(front: WSFront) -> None:
    conn, _ = front.connect()
    for sid in range(1, 21):
        open_ws(conn, sid)
    accepted = set()
    for _ in range(20):
        msg = conn.recv()
        assert msg[2] == Event.WS_ACCEPT
        accepted.add(msg[1])
    assert accepted == set(range(1, 21))
    for sid in range(1, 21):
        deliver(conn, sid, f"n{sid}")
    echoes: dict[int, str] = {}
    while len(echoes) < 20:
        msg = conn.recv()
        if msg[0] == Kind.EVENT:
            echoes[msg[1]] = msg[3]
    assert echoes == {sid: f"n{sid}" for sid in range(1, 21)}
