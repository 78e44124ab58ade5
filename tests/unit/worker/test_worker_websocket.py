"""The worker's websocket scope: over a real link with the test as the front,
and in-process for the state machine and every validation error.

The process tests start ``python -m pagi.worker`` on ``tests/apps/ws_worker_app.py``
and speak the link protocol with the codec (helpers from test_worker_link.py).
The in-process tests drive :class:`~pagi.worker.websocket_scope.WebSocketScope`
with a recording link (helpers from test_worker_http_scope.py).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pagi.protocol import BodyMode, Event, Kind
from pagi.protocol import messages as m
from pagi.worker.http_events import InvalidEvent, UnexpectedEvent
from pagi.worker.websocket_scope import WebSocketScope
from test_worker_link import FakeFront, FrontConn, Message
from worker_doubles import StubSession

MiB = 1 << 20


class WSFront(FakeFront):
    app = "ws_worker_app:app"


@pytest.fixture
def front(tmp_path: Path) -> Iterator[WSFront]:
    f = WSFront(tmp_path)
    try:
        yield f
    finally:
        f.cleanup()


def open_msg(
    sid: int, path: bytes = b"/echo", query: bytes = b"", extras: dict[str, Any] | None = None
) -> Message:
    return m.open_scope(
        sid,
        "websocket",
        "1.1",
        "GET",
        "ws",
        path,
        query,
        [[b"host", b"example"], [b"upgrade", b"websocket"]],
        ["127.0.0.1", 40000],
        ["127.0.0.1", 8000],
        extras if extras is not None else {},
        BodyMode.NONE,
    )


def open_ws(
    conn: FrontConn,
    sid: int,
    path: bytes = b"/echo",
    query: bytes = b"",
    extras: dict[str, Any] | None = None,
) -> None:
    conn.send(open_msg(sid, path, query, extras))


def deliver(conn: FrontConn, sid: int, data: str | bytes, more: bool = False) -> None:
    conn.send(m.event(sid, Event.WS_RECEIVE, data, more))


class Peer:
    """Reads one scope's messages; CREDITs are tallied, not returned."""

    def __init__(self, conn: FrontConn, sid: int = 1) -> None:
        self.conn = conn
        self.sid = sid
        self.credited = 0
        self.credits: list[int] = []

    def next(self, timeout: float = 5.0) -> Message:
        deadline = time.monotonic() + timeout
        while True:
            msg = self.conn.recv(max(0.01, deadline - time.monotonic()))
            assert msg[1] == self.sid, msg
            if msg[0] == Kind.CREDIT:
                self.credited += msg[2]
                self.credits.append(msg[2])
                continue
            return msg

    def accept(self) -> Message:
        msg = self.next()
        assert msg[:3] == [Kind.EVENT, self.sid, Event.WS_ACCEPT], msg
        return msg

    def text(self, timeout: float = 5.0) -> str:
        msg = self.next(timeout)
        assert msg[:3] == [Kind.EVENT, self.sid, Event.WS_SEND] and msg[4] is False, msg
        assert type(msg[3]) is str
        return str(msg[3])

    def message(self, timeout: float = 10.0) -> tuple[list[str | bytes], str | bytes]:
        """The pieces of one WS_SEND message (credited back at once) and the whole."""
        pieces: list[str | bytes] = []
        while True:
            msg = self.next(timeout)
            assert msg[:3] == [Kind.EVENT, self.sid, Event.WS_SEND], msg
            pieces.append(msg[3])
            if len(msg[3]):
                self.conn.send(m.credit(self.sid, len(msg[3])))
            if not msg[4]:
                if type(msg[3]) is str:
                    return pieces, "".join(str(p) for p in pieces)
                return pieces, b"".join(bytes(p) for p in pieces)  # type: ignore[arg-type]


def wait_file(path: Path, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.02)
    time.sleep(0.05)
    return json.loads(path.read_text())


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
    assert "method" not in info and "pagi.connection" not in info
    assert info["scheme"] == "ws" and info["http_version"] == "1.1"
    assert info["path"] == "/scope" and info["raw_path"] == "/scope"
    assert info["query_string"] == "a=1" and info["root_path"] == "/r"
    assert info["headers"] == [["host", "example"], ["upgrade", "websocket"]]
    assert info["client"] == ["127.0.0.1", 40000] and info["server"] == ["127.0.0.1", 8000]
    assert info["subprotocols"] == ["x"]
    assert info["extensions"] == {"websocket.http.response": {}, "tls": {"v": 1}}
    assert info["state"] == {"ws": True}
    assert info["pagi"] == {"version": "0.3", "spec_version": "0.3"}
    assert info["asgi"]["version"] == "3.0"
    assert info["has_transport"] is True
    assert peer.next() == [Kind.EVENT, 1, Event.WS_CLOSE, 1000, ""]
    assert peer.next() == [Kind.END, 1, 0, True, ""]


# --- messages -------------------------------------------------------------------------------


def test_text_and_binary_echo_and_credit(front: WSFront) -> None:
    conn, _ = front.connect("--window", "8")  # credits go back in batches of 2 or more
    open_ws(conn, 1)
    peer = Peer(conn)
    peer.accept()
    deliver(conn, 1, "h\u00e9llo")
    assert peer.next() == [Kind.EVENT, 1, Event.WS_SEND, "h\u00e9llo", False]
    deliver(conn, 1, b"\x00\xff")
    assert peer.next() == [Kind.EVENT, 1, Event.WS_SEND, b"\x00\xff", False]
    deliver(conn, 1, b"")
    assert peer.next() == [Kind.EVENT, 1, Event.WS_SEND, b"", False]
    deliver(conn, 1, "")
    assert peer.next() == [Kind.EVENT, 1, Event.WS_SEND, "", False]
    assert peer.credits == [5, 2]  # code points for text; nothing for empty messages


def test_credit_goes_back_a_quarter_window_at_a_time(front: WSFront) -> None:
    conn, _ = front.connect("--window", "400")
    open_ws(conn, 1)
    peer = Peer(conn)
    peer.accept()
    for i in range(30):  # one at a time: the app waits in receive() before each
        deliver(conn, 1, f"message {i:02d}")  # 10 code points
        assert peer.next()[3] == f"message {i:02d}"
    assert peer.credits == [100, 100, 100]
    deliver(conn, 1, "tail")
    assert peer.next()[3] == "tail"
    assert peer.credits == [100, 100, 100]  # 4 owed, less than a quarter


def test_owed_credit_goes_back_with_the_pieces_of_an_awaited_message(
    front: WSFront,
) -> None:
    conn, _ = front.connect("--window", "40")
    open_ws(conn, 1)
    peer = Peer(conn)
    peer.accept()
    deliver(conn, 1, b"abcde")
    assert peer.next()[3] == b"abcde"
    assert peer.credits == []  # 5 owed, less than a quarter of 40
    # the front has 35 left: a larger message arrives in pieces while the app waits
    deliver(conn, 1, b"x" * 35, True)
    assert conn.recv() == [Kind.CREDIT, 1, 40]  # the piece, and what was owed
    deliver(conn, 1, b"yyyyy")
    assert peer.next()[3] == b"x" * 35 + b"yyyyy"
    assert peer.credits == []  # the last piece's 5 are owed


def test_return_credit_makes_the_worker_credit_every_message(front: WSFront) -> None:
    conn, _ = front.connect("--window", "400")
    open_ws(conn, 1)
    peer = Peer(conn)
    peer.accept()
    deliver(conn, 1, "abcde")
    assert peer.next()[3] == "abcde"
    assert peer.credits == []  # owed, less than a quarter of 400
    conn.send(m.event(1, Event.WS_RETURN_CREDIT))
    assert conn.recv() == [Kind.CREDIT, 1, 5]
    deliver(conn, 1, "xy")
    assert peer.next()[3] == "xy"
    assert peer.credits == [2]  # from now on, as each message is taken


def test_pieces_are_reassembled(front: WSFront) -> None:
    conn, _ = front.connect("--window", "100")
    open_ws(conn, 1)
    peer = Peer(conn)
    peer.accept()
    deliver(conn, 1, "!sizes 3")
    deliver(conn, 1, "ab", True)
    deliver(conn, 1, "\u00e9d", True)
    deliver(conn, 1, "e")
    deliver(conn, 1, b"12", True)
    deliver(conn, 1, b"", True)
    deliver(conn, 1, b"345")
    deliver(conn, 1, "whole")
    assert json.loads(peer.text()) == [
        ["text", 5, "ab\u00e9"],
        ["bytes", 5, None],
        ["text", 5, "who"],
    ]
    # everything consumed is credited back: some of it is still owed (less
    # than a quarter window) until the front asks for it
    conn.send(m.event(1, Event.WS_RETURN_CREDIT))
    owed = conn.recv()
    assert owed[:2] == [Kind.CREDIT, 1]
    assert peer.credited + owed[2] == 8 + 5 + 5 + 5


def test_16mib_message_in(front: WSFront) -> None:
    window = 256 * 1024
    conn, _ = front.connect("--window", str(window))
    open_ws(conn, 1)
    peer = Peer(conn)
    peer.accept()
    deliver(conn, 1, "!sizes 2")
    allowed = window - len("!sizes 2")
    for size, unit in ((16 * MiB + 1, b"x"), (4 * MiB + 3, "\u20ac")):
        sent = 0
        while sent < size:
            while allowed <= 0:
                msg = conn.recv(10)
                assert msg[0] == Kind.CREDIT, msg
                allowed += msg[2]
            n = min(allowed, size - sent, 1 * MiB)
            deliver(conn, 1, unit * n, sent + n < size)
            sent += n
            allowed -= n
    sizes = json.loads(peer.text(timeout=30))
    assert sizes == [["bytes", 16 * MiB + 1, None], ["text", 4 * MiB + 3, "\u20ac" * 3]]


def test_16mib_message_out(front: WSFront) -> None:
    window = 1 * MiB
    conn, _ = front.connect(window=window)
    open_ws(conn, 1)
    peer = Peer(conn)
    peer.accept()
    deliver(conn, 1, "!bytes 16777217")
    first = peer.next()
    assert first[:3] == [Kind.EVENT, 1, Event.WS_SEND] and first[3:] == [b"b" * window, True]
    assert conn.nothing_within(0.3)  # the window is used up: the app's send waits
    conn.send(m.credit(1, window))
    pieces, whole = peer.message(timeout=30)
    assert whole == b"b" * (16 * MiB + 1 - window)
    assert all(0 < len(p) <= window for p in pieces)
    assert peer.text() == "sent"
    # text: split between code points, each piece within the window
    deliver(conn, 1, "!text 5000000")
    pieces, whole = peer.message(timeout=30)
    assert whole == "\u00e9" * 5_000_000
    assert len(pieces) >= 5 and all(type(p) is str and len(p) <= window for p in pieces)
    assert peer.text() == "sent"


def test_consumed_messages_are_credited_not_received_ones(front: WSFront) -> None:
    conn, _ = front.connect("--window", "20")
    open_ws(conn, 1)
    peer = Peer(conn)
    peer.accept()
    deliver(conn, 1, "!sleep 0.4")  # 10 code points
    deliver(conn, 1, "0123456789")  # the window is now used up
    assert conn.recv() == [Kind.CREDIT, 1, 10]  # only what the app took
    assert conn.nothing_within(0.15)
    assert peer.text() == "awake"
    assert conn.recv() == [Kind.CREDIT, 1, 10]
    assert peer.next()[3] == "0123456789"


def test_incomplete_message_is_pulled_while_the_app_waits(front: WSFront) -> None:
    conn, _ = front.connect("--window", "10")
    open_ws(conn, 1)
    peer = Peer(conn)
    peer.accept()
    # the app is waiting in receive(): the pieces of the next message are credited
    # as they arrive, so a message larger than the window can complete
    deliver(conn, 1, b"0123456789", True)
    assert conn.recv() == [Kind.CREDIT, 1, 10]
    deliver(conn, 1, b"abcdefghij", True)
    assert conn.recv() == [Kind.CREDIT, 1, 10]
    deliver(conn, 1, b"XYZ")
    assert peer.next() == [Kind.EVENT, 1, Event.WS_SEND, b"0123456789abcdefghijXYZ", False]
    assert peer.credits == [3]
    # the app is busy: pieces beyond a window wait until it receives again
    deliver(conn, 1, "!sleep 0.4")
    assert conn.recv() == [Kind.CREDIT, 1, 10]
    deliver(conn, 1, b"0123456789", True)
    assert conn.nothing_within(0.2)
    assert peer.text() == "awake"
    assert conn.recv() == [Kind.CREDIT, 1, 10]  # the app asked for the next message
    deliver(conn, 1, b"!")
    assert peer.next()[3] == b"0123456789!"


def test_message_data_beyond_the_window_drops_the_link(front: WSFront) -> None:
    conn, _ = front.connect("--window", "10")
    open_ws(conn, 1)
    Peer(conn).accept()
    deliver(conn, 1, "!sleep 1 xx")  # 11 > 10
    conn.expect_eof()
    assert "exceed the window" in front.log()


def test_mixed_piece_types_drop_the_link(front: WSFront) -> None:
    conn, _ = front.connect()
    open_ws(conn, 1)
    Peer(conn).accept()
    deliver(conn, 1, "ab", True)
    deliver(conn, 1, b"cd")
    conn.expect_eof()
    assert "mixes text and binary" in front.log()


def test_message_before_accept_drops_the_link(front: WSFront) -> None:
    conn, _ = front.connect()
    # one write, so the message is handled before the app can end the scope
    conn.send(open_msg(1, path=b"/no-handshake"), m.event(1, Event.WS_RECEIVE, "early", False))
    conn.expect_eof()
    assert "WS_RECEIVE before the app accepted" in front.log()


def test_http_request_event_on_a_websocket_scope_drops_the_link(front: WSFront) -> None:
    conn, _ = front.connect()
    open_ws(conn, 1)
    Peer(conn).accept()
    conn.send(m.event(1, Event.HTTP_REQUEST, b"x", False))
    conn.expect_eof()


# --- closing -----------------------------------------------------------------------------


def test_disconnect_after_queued_messages(front: WSFront, tmp_path: Path) -> None:
    out = tmp_path / "seen.json"
    conn, _ = front.connect()
    open_ws(conn, 1, query=f"out={out}".encode())
    peer = Peer(conn)
    peer.accept()
    # one write: the message is queued before the disconnect; the app still gets
    # it, its echo is a no-op, then it sees the peer's code and reason
    conn.send(
        m.event(1, Event.WS_RECEIVE, "x", False),
        m.event(1, Event.WS_DISCONNECT, 4000, "bye"),
    )
    assert peer.next() == [Kind.END, 1, 0, True, ""]
    assert wait_file(out) == {
        "disconnect": {"type": "websocket.disconnect", "code": 4000, "reason": "bye"},
        "after": ["send-ok"],
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


# --- in-process: state machine and validation ------------------------------------------------


def make_ws(subprotocols: list[str] | None = None, **kw: Any) -> tuple[WebSocketScope, StubSession]:
    session = StubSession(**kw)
    extras = {} if subprotocols is None else {"subprotocols": subprotocols}
    msg = m.open_scope(
        5, "websocket", "1.1", "GET", "wss", b"/ws", b"", [], None, None, extras, BodyMode.NONE
    )
    return WebSocketScope(session, msg), session  # type: ignore[arg-type]


def run(coro_fn: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(coro_fn(), 5))


def sent(session: StubSession) -> list[list[Any]]:
    out = [msg[2:] if msg[0] == Kind.EVENT else msg for msg in session.link.sent]
    session.link.sent.clear()
    return out


ACCEPT = {"type": "websocket.accept"}


def wsend(text: str | None = None, data: bytes | None = None) -> dict[str, Any]:
    return {"type": "websocket.send", "text": text, "bytes": data}


BAD_EVENTS: list[tuple[dict[str, Any], str]] = [
    ({"type": "websocket.nope"}, "unknown event type 'websocket.nope' for a websocket scope"),
    ({"type": "http.response.start", "status": 200}, "unknown event type 'http.response.start'"),
    # accept
    ({"type": "websocket.accept", "subprotocol": 3}, "'subprotocol' must be a str or None"),
    ({"type": "websocket.accept", "subprotocol": ""}, "'subprotocol' must be a non-empty HTTP"),
    ({"type": "websocket.accept", "subprotocol": "a b"}, "'subprotocol' must be a non-empty"),
    ({"type": "websocket.accept", "headers": "x"}, "'headers' must be an iterable of"),
    ({"type": "websocket.accept", "headers": [(b"x", b"a\nb")]}, "contains CR, LF or NUL"),
    ({"type": "websocket.accept", "headers": [(b"x y", b"1")]}, "is not a valid HTTP token"),
    ({"type": "websocket.accept", "headers": [("x", b"1")]}, "header name (item 0) must be bytes"),
    (
        {"type": "websocket.accept", "headers": [(b"Sec-WebSocket-Protocol", b"x")]},
        "must not include sec-websocket-protocol; use the 'subprotocol' key",
    ),
    (
        {"type": "websocket.accept", "headers": [(b"upgrade", b"x")]},
        "must not include upgrade; the server sets it",
    ),
    # close
    ({"type": "websocket.close", "code": "1000"}, "'code' must be an int from 1000-1003"),
    ({"type": "websocket.close", "code": True}, "'code' must be an int"),
    ({"type": "websocket.close", "reason": b"x"}, "websocket.close: 'reason' must be a str"),
    ({"type": "websocket.close", "reason": "\ud800"}, "'reason' cannot be encoded as UTF-8"),
    ({"type": "websocket.close", "reason": "x" * 124}, "at most 123 bytes in UTF-8, got 124"),
    ({"type": "websocket.close", "reason": "\u00e9" * 62}, "at most 123 bytes in UTF-8, got 124"),
    # keepalive
    ({"type": "websocket.keepalive"}, "websocket.keepalive: 'interval' is required"),
    ({"type": "websocket.keepalive", "interval": -1}, "'interval' must be a number of seconds"),
    ({"type": "websocket.keepalive", "interval": "5"}, "'interval' must be a number"),
    ({"type": "websocket.keepalive", "interval": True}, "'interval' must be a number"),
    ({"type": "websocket.keepalive", "interval": float("nan")}, "'interval' must be a number"),
    ({"type": "websocket.keepalive", "interval": float("inf")}, "'interval' must be a number"),
    ({"type": "websocket.keepalive", "interval": 1, "timeout": -0.5}, "'timeout' must be a"),
    # http denial
    ({"type": "websocket.http.response.start"}, "'status' is required"),
    ({"type": "websocket.http.response.start", "status": 101}, "from 200 to 999, got 101"),
    ({"type": "websocket.http.response.start", "status": "403"}, "from 200 to 999, got '403'"),
    (
        {"type": "websocket.http.response.start", "status": 403, "headers": [(b"a", b"\r")]},
        "contains CR, LF or NUL",
    ),
    ({"type": "websocket.http.response.body", "body": "x"}, "'body' must be bytes, got str"),
    ({"type": "websocket.http.response.body", "more": 2}, "'more' must be a bool"),
]

BAD_SENDS: list[tuple[dict[str, Any], str]] = [
    (wsend(), "websocket.send: one of 'bytes' or 'text' is required"),
    (wsend("a", b"b"), "give exactly one of 'bytes' and 'text', not both"),
    ({"type": "websocket.send", "bytes": "x"}, "'bytes' must be bytes, got str"),
    ({"type": "websocket.send", "text": b"x"}, "'text' must be a str, got bytes"),
    ({"type": "websocket.send", "text": "a\udcffb"}, "'text' cannot be encoded as UTF-8"),
]


@pytest.mark.parametrize(("event", "needle"), BAD_EVENTS + BAD_SENDS)
def test_invalid_events_raise_and_never_reach_the_wire(event: dict[str, Any], needle: str) -> None:
    async def main() -> None:
        scope, session = make_ws()
        if event["type"] in {"websocket.send", "websocket.keepalive"}:
            await scope.send(ACCEPT)
        elif event["type"] == "websocket.http.response.body":
            await scope.send({"type": "websocket.http.response.start", "status": 403})
        sent(session)
        with pytest.raises(InvalidEvent) as info:
            await scope.send(event)
        assert needle in str(info.value)
        assert isinstance(info.value, ValueError)
        assert sent(session) == []

    run(main)


def test_send_takes_an_event_dict() -> None:
    async def main() -> None:
        scope, _ = make_ws()
        with pytest.raises(InvalidEvent, match="send\\(\\) takes an event dict, got str"):
            await scope.send("websocket.accept")  # type: ignore[arg-type]

    run(main)


def test_valid_events_normalize() -> None:
    async def main() -> None:
        scope, session = make_ws(["a"])
        await scope.send(
            {
                "type": "websocket.accept",
                "subprotocol": "not-offered",  # accepted: the client decides
                "headers": (x for x in [(bytearray(b"Set-Cookie"), memoryview(b"a=1"))]),
                "extra": object(),
            }
        )
        await scope.send({"type": "websocket.send", "bytes": bytearray(b"ab"), "text": None})
        await scope.send({"type": "websocket.send", "text": "\u00e9", "bytes": None})
        await scope.send({"type": "websocket.keepalive", "interval": 10, "timeout": None})
        await scope.send({"type": "websocket.close", "reason": "\u00e9" * 61 + "x"})  # 123 bytes
        assert sent(session) == [
            [Event.WS_ACCEPT, "not-offered", [[b"set-cookie", b"a=1"]]],
            [Event.WS_SEND, b"ab", False],
            [Event.WS_SEND, "\u00e9", False],
            [Event.WS_KEEPALIVE, 10, None],
            [Event.WS_CLOSE, 1000, "\u00e9" * 61 + "x"],
        ]

    run(main)


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999])
def test_close_codes_allowed(code: int) -> None:
    async def main() -> None:
        scope, session = make_ws()
        await scope.send(ACCEPT)
        await scope.send({"type": "websocket.close", "code": code, "reason": None})
        assert sent(session)[-1] == [Event.WS_CLOSE, code, ""]

    run(main)


@pytest.mark.parametrize("code", [999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 0, -1])
def test_close_codes_refused(code: int) -> None:
    async def main() -> None:
        scope, _ = make_ws()
        with pytest.raises(InvalidEvent, match="'code' must be an int from 1000-1003, 1007-1014"):
            await scope.send({"type": "websocket.close", "code": code})

    run(main)


@pytest.mark.parametrize(
    ("setup", "event", "needle"),
    [
        ([], wsend("x"), "websocket.send: the connection has not been accepted yet"),
        ([], {"type": "websocket.keepalive", "interval": 1}, "has not been accepted yet"),
        ([], {"type": "websocket.http.response.body"}, "response.start has not been sent"),
        ([ACCEPT], ACCEPT, "websocket.accept: the connection has already been accepted"),
        (
            [ACCEPT],
            {"type": "websocket.http.response.start", "status": 403},
            "already been accepted; a denial response is only possible before",
        ),
        ([ACCEPT], {"type": "websocket.http.response.body"}, "already been accepted"),
        (
            [{"type": "websocket.http.response.start", "status": 403}],
            ACCEPT,
            "websocket.accept: a denial response has started; only "
            "websocket.http.response.body may follow",
        ),
        (
            [{"type": "websocket.http.response.start", "status": 403}],
            {"type": "websocket.close"},
            "websocket.close: a denial response has started",
        ),
        (
            [{"type": "websocket.http.response.start", "status": 403}],
            {"type": "websocket.http.response.start", "status": 403},
            "the denial response has already started",
        ),
        (
            [{"type": "websocket.http.response.start", "status": 403}],
            wsend("x"),
            "a denial response has started",
        ),
    ],
)
def test_events_at_the_wrong_time(
    setup: list[dict[str, Any]], event: dict[str, Any], needle: str
) -> None:
    async def main() -> None:
        scope, session = make_ws()
        for e in setup:
            await scope.send(e)
        before = sent(session)
        with pytest.raises(UnexpectedEvent) as info:
            await scope.send(event)
        assert needle in str(info.value)
        assert isinstance(info.value, RuntimeError)
        assert sent(session) == []
        assert len(before) == len(setup)

    run(main)


def test_sends_after_close_are_no_ops_but_still_validated() -> None:
    async def main() -> None:
        scope, session = make_ws()
        await scope.send(ACCEPT)
        await scope.send({"type": "websocket.close", "code": 4000, "reason": "r"})
        sent(session)
        for event in (
            wsend("x"),
            ACCEPT,
            {"type": "websocket.close"},
            {"type": "websocket.keepalive", "interval": 1},
            {"type": "websocket.http.response.start", "status": 403},
        ):
            await scope.send(event)
        with pytest.raises(InvalidEvent):
            await scope.send(wsend())
        assert sent(session) == []
        assert not scope.gone  # the client still has to answer the close
        scope.on_ws_event(m.event(5, Event.WS_RECEIVE, "late", False))
        assert (await scope.receive())["type"] == "websocket.connect"
        assert await scope.receive() == {"type": "websocket.receive", "bytes": None, "text": "late"}
        scope.on_ws_event(m.event(5, Event.WS_DISCONNECT, 4000, "r"))
        for _ in range(2):
            assert await scope.receive() == {
                "type": "websocket.disconnect",
                "code": 4000,
                "reason": "r",
            }

    run(main)


def test_sends_after_the_client_is_gone_are_no_ops() -> None:
    async def main() -> None:
        scope, session = make_ws()
        scope.on_close("client_closed")  # before the handshake
        await scope.send(ACCEPT)
        await scope.send(wsend("x"))
        await scope.send({"type": "websocket.close"})
        assert sent(session) == []
        assert await scope.receive() == {"type": "websocket.connect"}
        assert await scope.receive() == {
            "type": "websocket.disconnect",
            "code": 1006,
            "reason": "client_closed",
        }

    run(main)


def test_text_is_split_between_code_points_within_window_and_frame() -> None:
    async def main() -> None:
        scope, session = make_ws(response_window=10)
        session.max_body_piece = 16  # a str piece may take 4 bytes per code point: 4
        await scope.send(ACCEPT)
        sent(session)
        text = "\U0001f600" * 9 + "ab"  # 11 code points
        task = asyncio.ensure_future(scope.send(wsend(text)))
        await asyncio.sleep(0)
        assert sent(session) == [
            [Event.WS_SEND, "\U0001f600" * 4, True],
            [Event.WS_SEND, "\U0001f600" * 4, True],
            [Event.WS_SEND, "\U0001f600a", True],
        ]
        assert not task.done()
        assert scope.transport.buffered_amount() == 10
        scope.on_credit(1)
        await task
        assert sent(session) == [[Event.WS_SEND, "b", False]]
        assert scope.transport.buffered_amount() == 10

    run(main)


def test_concurrent_sends_do_not_interleave() -> None:
    async def main() -> None:
        scope, session = make_ws(response_window=3)
        await scope.send(ACCEPT)
        sent(session)
        first = asyncio.ensure_future(scope.send(wsend(data=b"aaaaa")))
        second = asyncio.ensure_future(scope.send(wsend(data=b"bb")))
        await asyncio.sleep(0)
        assert sent(session) == [[Event.WS_SEND, b"aaa", True]]
        scope.on_credit(10)
        await asyncio.gather(first, second)
        assert sent(session) == [[Event.WS_SEND, b"aa", False], [Event.WS_SEND, b"bb", False]]

    run(main)


def test_cancelled_send_drops_or_finishes_its_message() -> None:
    async def main() -> None:
        scope, session = make_ws(response_window=2)
        await scope.send(ACCEPT)
        sent(session)
        partial = asyncio.ensure_future(scope.send(wsend(data=b"xyz")))
        queued = asyncio.ensure_future(scope.send(wsend(data=b"q")))
        await asyncio.sleep(0)
        assert sent(session) == [[Event.WS_SEND, b"xy", True]]
        partial.cancel()
        queued.cancel()
        await asyncio.gather(partial, queued, return_exceptions=True)
        assert partial.cancelled() and queued.cancelled()
        scope.on_credit(5)
        # the started message is completed (the stream stays well formed); the
        # one that never started is dropped
        assert sent(session) == [[Event.WS_SEND, b"z", False]]

    run(main)


def test_close_drops_pending_messages_and_releases_senders() -> None:
    async def main() -> None:
        scope, session = make_ws(response_window=2)
        await scope.send(ACCEPT)
        sent(session)
        pending = asyncio.ensure_future(scope.send(wsend(data=b"xyz")))
        await asyncio.sleep(0)
        await scope.send({"type": "websocket.close", "code": 1001})
        await pending  # returns without error: a send after close is a no-op
        scope.on_credit(10)
        assert sent(session) == [[Event.WS_SEND, b"xy", True], [Event.WS_CLOSE, 1001, ""]]

    run(main)


def test_disconnect_releases_a_waiting_sender() -> None:
    async def main() -> None:
        scope, _ = make_ws(response_window=0)
        await scope.send(ACCEPT)
        pending = asyncio.ensure_future(scope.send(wsend("x")))
        await asyncio.sleep(0)
        scope.on_ws_event(m.event(5, Event.WS_DISCONNECT, 1001, "going"))
        await pending
        assert scope.gone

    run(main)


def test_denial_body_is_flow_controlled_and_final() -> None:
    async def main() -> None:
        scope, session = make_ws(response_window=4)
        await scope.send({"type": "websocket.http.response.start", "status": 403, "headers": []})
        await scope.send({"type": "websocket.http.response.body", "body": b"", "more": True})
        task = asyncio.ensure_future(
            scope.send({"type": "websocket.http.response.body", "body": b"forbidden"})
        )
        await asyncio.sleep(0)
        scope.on_credit(100)
        await task
        assert sent(session) == [
            [Event.HTTP_RESPONSE_START, 403, [], False],
            [Event.HTTP_RESPONSE_BODY, b"forb", True],
            [Event.HTTP_RESPONSE_BODY, b"idden", False],
        ]
        assert scope.gone
        assert await scope.receive() == {"type": "websocket.connect"}
        assert (await scope.receive())["code"] == 1006

    run(main)


def test_headers_larger_than_a_frame_raise() -> None:
    async def main() -> None:
        scope, session = make_ws()
        session.max_frame_size = 1000
        big = [(b"x-big", b"v" * 2000)]
        with pytest.raises(InvalidEvent, match=r"websocket\.accept: the headers are too large"):
            await scope.send({"type": "websocket.accept", "headers": big})
        with pytest.raises(InvalidEvent, match=r"http\.response\.start: the headers are too large"):
            await scope.send(
                {"type": "websocket.http.response.start", "status": 403, "headers": big}
            )
        assert sent(session) == []
        await scope.send(ACCEPT)  # nothing changed state

    run(main)


def test_cancelled_receive_loses_nothing_and_partial_credit() -> None:
    async def main() -> None:
        scope, session = make_ws(request_window=10)
        await scope.send(ACCEPT)
        await scope.receive()  # connect
        sent(session)
        scope.on_ws_event(m.event(5, Event.WS_RECEIVE, b"12345", True))  # nobody waiting
        assert sent(session) == []
        waiter = asyncio.ensure_future(scope.receive())
        await asyncio.sleep(0)
        assert sent(session) == [[Kind.CREDIT, 5, 5]]  # the app asked: pull the rest
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        scope.on_ws_event(m.event(5, Event.WS_RECEIVE, b"678", False))
        assert await scope.receive() == {
            "type": "websocket.receive",
            "bytes": b"12345678",
            "text": None,
        }
        assert sent(session) == [[Kind.CREDIT, 5, 3]]

    run(main)


def test_finish_sends_end_and_later_receive_is_a_disconnect() -> None:
    async def main() -> None:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            await send(ACCEPT)
            raise KeyError("k")

        ws, session = make_ws()
        session.app = app
        await ws.run()
        assert sent(session) == [
            [Event.WS_ACCEPT, None, []],
            [Kind.END, 5, 1, True, "KeyError: 'k'"],
        ]
        assert session.ended == [5]
        assert await ws.receive() == {"type": "websocket.connect"}
        assert await ws.receive() == {
            "type": "websocket.disconnect",
            "code": 1011,
            "reason": "server_error",
        }

    run(main)
