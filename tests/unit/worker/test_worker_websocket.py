"""The worker's websocket scope over a real link, with the test as the front.

These tests start ``python -m pagi.worker`` on ``tests/apps/ws_worker_app.py``
and speak the link protocol with the codec (helpers from front_doubles.py).
The state machine and every validation error are tested in-process in
test_worker_websocket_events.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from front_doubles import FakeFront, FrontConn, Message
from pagi.protocol import BodyMode, Event, Kind
from pagi.protocol import messages as m

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
