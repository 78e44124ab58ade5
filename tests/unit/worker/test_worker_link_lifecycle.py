"""A real pagi-worker process, with the test as its front: the client side going
away, a dropped link, REJECT, waiting for the front, signals and draining
(helpers: front_doubles.py).
"""

from __future__ import annotations

import json
import os
import signal
import struct
import time
from pathlib import Path

import front_doubles
from front_doubles import FakeFront
from pagi.protocol import (
    Event,
    Kind,
)
from pagi.protocol import messages as m

front = front_doubles.front_fixture  # the FakeFront of each test


# --- the client side going away -----------------------------------------------------------


def test_close_delivers_disconnect_in_order(front: FakeFront, tmp_path: Path) -> None:
    out = tmp_path / "seen.json"
    conn, _ = front.connect()
    conn.open(1, path=b"/wait-disconnect", query=f"out={out}".encode())
    start = conn.recv()
    assert start[2] == Event.HTTP_RESPONSE_START
    assert start[6:] == [b"waiting", True]  # the first body piece rides with START
    conn.send(m.close(1, "client_closed"))
    assert conn.recv() == [Kind.END, 1, 0, True, ""]  # the later send was a no-op
    assert json.loads(out.read_text()) == [
        ["callback", "client_closed", False, True],
        ["event", "http.disconnect"],
        ["future", "client_closed"],
        ["after-send", False, "client_closed"],
    ]


def test_link_drop_ends_open_scopes_and_reconnects(front: FakeFront, tmp_path: Path) -> None:
    out = tmp_path / "seen.json"
    conn, _ = front.connect()
    conn.open(1, path=b"/wait-disconnect", query=f"out={out}".encode())
    assert conn.recv()[2] == Event.HTTP_RESPONSE_START
    conn.sock.close()
    conn2 = front.accept()
    conn2.handshake()
    deadline = time.monotonic() + 5
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    seen = json.loads(out.read_text())
    assert seen[0] == ["callback", "server_shutdown", False, True]
    # the new link works, scope ids start over
    conn2.open(1)
    assert conn2.response(1)["body"] == b"hello"


def test_garbage_frame_drops_the_link_and_reconnects(front: FakeFront) -> None:
    conn, _ = front.connect()
    conn.sock.sendall(struct.pack(">I", 3) + b"\xc1\xc1\xc1")
    conn.expect_eof()
    conn2 = front.accept()
    conn2.handshake()
    conn2.open(1)
    assert conn2.response(1)["body"] == b"hello"
    assert "malformed input from pagi-front" in front.log()


def test_open_before_welcome_is_a_violation(front: FakeFront) -> None:
    front.listen()
    front.start_worker()
    conn = front.accept()
    assert conn.recv()[0] == Kind.HELLO
    conn.open(1)
    conn.expect_eof()


def test_reject_exits_1(front: FakeFront) -> None:
    front.listen()
    front.start_worker()
    conn = front.accept()
    conn.recv()
    conn.send(m.reject("protocol version 1 not supported; this front speaks 2"))
    assert front.wait() == 1
    assert "rejected this worker: protocol version 1 not supported" in front.log()


# --- waiting, signals, draining -----------------------------------------------------------


def test_worker_waits_for_the_front(front: FakeFront) -> None:
    front.start_worker()
    deadline = time.monotonic() + 10
    while "waiting for pagi-front at" not in front.log():
        assert time.monotonic() < deadline, front.log()
        time.sleep(0.02)
    time.sleep(0.3)
    front.listen()
    conn = front.accept(timeout=8)
    conn.handshake()
    conn.open(1)
    assert conn.response(1)["body"] == b"hello"
    assert front.log().count(" INFO worker#") >= 1
    assert front.log().count("waiting for pagi-front at") >= 2  # later ones at DEBUG


def test_sigterm_while_waiting_exits_0(front: FakeFront, tmp_path: Path) -> None:
    marker = tmp_path / "shutdown.txt"
    front.start_worker(env={"WORKER_TEST_SHUTDOWN_FILE": str(marker)})
    deadline = time.monotonic() + 10
    while "waiting for pagi-front" not in front.log():
        assert time.monotonic() < deadline, front.log()
        time.sleep(0.02)
    front.signal(signal.SIGTERM)
    assert front.wait(5) == 0
    assert marker.read_text() == "lifespan.shutdown"


def test_sigterm_drains_open_scopes_then_exits_0(front: FakeFront, tmp_path: Path) -> None:
    marker = tmp_path / "shutdown.txt"
    conn, _ = front.connect(env={"WORKER_TEST_SHUTDOWN_FILE": str(marker)})
    conn.open(1, path=b"/sleep", query=b"s=0.5")
    time.sleep(0.1)
    front.signal(signal.SIGTERM)
    assert conn.recv() == [Kind.DRAIN, 0]
    conn.open(2)  # crossed the DRAIN on the wire: still served
    r2 = conn.response(2)
    assert r2["body"] == b"hello"
    assert conn.response(1)["end"] == [0, True, ""]
    # Its scopes are over, but the worker keeps the link until the front
    # closes it (protocol 3): an OPEN still on its way is served, not lost.
    assert conn.nothing_within(0.3)
    conn.open(3)
    assert conn.response(3)["body"] == b"hello"
    conn.close()  # what the front does once a draining worker has no scope left
    assert front.wait() == 0
    assert marker.read_text() == "lifespan.shutdown"


def test_drain_from_the_front_stops_the_worker(front: FakeFront) -> None:
    conn, _ = front.connect()
    conn.open(1, path=b"/sleep", query=b"s=0.3")
    conn.send(m.drain())
    assert conn.recv() == [Kind.DRAIN, 0]  # acknowledged: it is stopping
    assert conn.response(1)["end"] == [0, True, ""]
    conn.close()
    assert front.wait() == 0
    assert "the front asked this worker to drain" in front.log()


def test_graceful_timeout_cancels_scopes(front: FakeFront) -> None:
    conn, _ = front.connect("--graceful-timeout", "0.3")
    conn.open(1, path=b"/forever")
    assert conn.recv()[2] == Event.HTTP_RESPONSE_START
    front.signal(signal.SIGTERM)
    assert conn.recv() == [Kind.DRAIN, 0]
    rest = conn.expect_eof()
    assert rest == [[Kind.END, 1, 1, True, "cancelled at shutdown"]]
    assert front.wait() == 0


def test_second_signal_exits_at_once(front: FakeFront) -> None:
    conn, _ = front.connect("--graceful-timeout", "30")
    conn.open(1, path=b"/forever")
    assert conn.recv()[2] == Event.HTTP_RESPONSE_START
    front.signal(signal.SIGTERM)
    assert conn.recv() == [Kind.DRAIN, 0]
    front.signal(signal.SIGINT)
    assert front.wait(3) == 1


def test_backed_up_link_keeps_order_and_descriptors(front: FakeFront, tmp_path: Path) -> None:
    # the front does not read for a while: the worker's writes back up (partial
    # writes, add_writer), and a descriptor queued behind megabytes of body
    # must still arrive no later than its frame
    path = tmp_path / "f.txt"
    path.write_bytes(b"file content")
    conn, _ = front.connect(window=1 << 23)
    conn.open(1, path=b"/big", query=b"n=6000000")
    conn.open(2, path=b"/file", query=f"path={path}".encode())
    time.sleep(0.5)
    r1 = conn.response(1, timeout=20)
    r2 = conn.response(2)
    assert r1["body"] == b"x" * 6_000_000 and r1["end"] == [0, True, ""]
    assert r2["file"] == [0, None] and r2["end"] == [0, True, ""]
    assert len(conn.fds) == 1
    assert os.pread(conn.fds[0], 100, 0) == b"file content"
