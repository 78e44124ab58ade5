"""The worker's websocket messages over a real link: echo, pieces, 16 MiB, credit.

The test is the front (ws_front.py); a peer breaking the window or the
message rules loses its link.
"""

from __future__ import annotations

import json

from pagi.protocol import Event, Kind
from pagi.protocol import messages as m
from ws_front import MiB, Peer, WSFront, deliver, open_msg, open_ws, ws_front_fixture

front = ws_front_fixture  # the WSFront of each test


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
