"""Protocol conformance of a real pagi-worker process, with the test as its front.

Each test listens on a real UNIX socket, starts ``python -m pagi.worker`` on
``tests/apps/worker_link_app.py``, and speaks the link protocol with the codec
from ``pagi.protocol`` (front_doubles.py): HELLO/WELCOME, OPEN, events,
CREDIT, file descriptors over SCM_RIGHTS, malformed input. The client side
going away, waiting for the front, signals and draining:
test_worker_link_lifecycle.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import front_doubles
from front_doubles import APP, FakeFront
from pagi.protocol import (
    PROTOCOL_VERSION,
    BodyMode,
    Event,
    Kind,
)
from pagi.protocol import messages as m

front = front_doubles.front_fixture  # the FakeFront of each test


# --- handshake and a plain request ------------------------------------------------------


def test_hello_then_get(front: FakeFront) -> None:
    conn, hello = front.connect("--capacity", "7", "--window", "1000", "--worker-num", "3")
    assert hello[2] == PROTOCOL_VERSION
    info = hello[3]
    assert front.proc is not None
    assert info == {
        "pid": front.proc.pid,
        "name": f"{APP} #3",
        "app": APP,
        "interface": "pagi",
        "capacity": 7,
        "window": 1000,
    }
    conn.open(1)
    # the app sends start, then its body at once: START carries the body
    assert conn.recv() == [
        Kind.EVENT,
        1,
        Event.HTTP_RESPONSE_START,
        200,
        [[b"content-type", b"text/plain"]],
        False,
        b"hello",
        False,
    ]
    assert conn.recv() == [Kind.END, 1, 0, True, ""]


def test_name_option_and_ping(front: FakeFront) -> None:
    conn, hello = front.connect("--name", "blue")
    assert hello[3]["name"] == "blue"
    conn.send(m.ping(12345))
    assert conn.recv() == [Kind.PONG, 0, 12345]


def test_scope_is_completed_from_open(front: FakeFront) -> None:
    conn, _ = front.connect("--root-path", "/mnt", "--worker-num", "2")
    conn.open(
        1,
        path=b"/scope/caf%C3%A9/%FF%2Fx",
        query=b"a=%20b",
        headers=[[b"host", b"h"], [b"x-a", b"1"]],
        extras={"extensions": {"tls": {"version": 771}}, "unknown": 1},
    )
    r = conn.response(1)
    info = json.loads(r["body"])
    assert info["path"] == list(b"/scope/caf\xc3\xa9/\xff/x")  # decoded, bytes preserved
    assert info["raw_path"] == "/scope/caf%C3%A9/%FF%2Fx"
    assert info["query_string"] == "a=%20b"
    assert info["root_path"] == "/mnt"
    assert info["headers"] == [["host", "h"], ["x-a", "1"]]
    assert info["client"] == ["127.0.0.1", 40000] and info["server"] == ["127.0.0.1", 8000]
    assert info["pagi"] == {"version": "0.5", "spec_version": "0.6"}
    assert "asgi" not in info  # a PAGI app (--interface auto, no ASGI framework)
    assert info["http_version"] == "1.1" and info["method"] == "GET"
    assert info["scheme"] == "http" and info["type"] == "http"
    assert front.proc is not None
    assert info["state"] == {"started_pid": front.proc.pid, "worker_num": 2}
    assert info["extensions"] == ["tls"]  # PAGI: trailers, file bodies are native


def test_many_scopes_run_concurrently(front: FakeFront) -> None:
    conn, _ = front.connect()
    conn.open(1, path=b"/sleep", query=b"s=0.5")
    conn.open(2, path=b"/hello")
    first_end = None
    while first_end is None:
        msg = conn.recv()
        if msg[0] == Kind.END:
            first_end = msg[1]
    assert first_end == 2
    assert conn.response(1)["body"] == b"slept"


# --- request bodies and credits ---------------------------------------------------------


def test_post_body_is_credited_as_consumed(front: FakeFront) -> None:
    conn, _ = front.connect("--window", "10")
    conn.open(1, path=b"/echo", method="POST", body_mode=BodyMode.STREAM)
    conn.send(m.event(1, Event.HTTP_REQUEST, b"0123456789", True))
    assert conn.recv() == [Kind.CREDIT, 1, 10]
    conn.send(m.event(1, Event.HTTP_REQUEST, b"abcd", True))
    assert conn.recv() == [Kind.CREDIT, 1, 4]
    conn.send(m.event(1, Event.HTTP_REQUEST, b"", False))
    r = conn.response(1)
    assert r["body"] == b"0123456789abcd"
    assert dict(map(tuple, r["headers"]))[b"x-chunks"] == b"10,4,0"
    assert r["end"] == [0, True, ""]


def test_get_has_one_empty_final_request_event(front: FakeFront) -> None:
    conn, _ = front.connect()
    conn.open(1, path=b"/echo")
    r = conn.response(1)
    assert r["body"] == b"" and dict(map(tuple, r["headers"]))[b"x-chunks"] == b"0"


def test_more_body_than_granted_drops_the_link(front: FakeFront) -> None:
    conn, _ = front.connect("--window", "10")
    conn.open(1, path=b"/first-read", method="POST", body_mode=BodyMode.STREAM)
    conn.send(m.event(1, Event.HTTP_REQUEST, b"x" * 11, True))
    conn.expect_eof()
    conn2 = front.accept()  # it reconnects
    conn2.handshake()
    assert "exceed the window" in front.log()


def test_expect_continue_window_opens_on_first_receive(front: FakeFront) -> None:
    conn, _ = front.connect("--window", "100")
    # an app that never reads the body: no CREDIT, so no 100 Continue
    conn.open(1, path=b"/hello", method="POST", body_mode=BodyMode.EXPECT_CONTINUE)
    r = conn.response(1)
    assert r["body"] == b"hello"
    # an app that reads: its first receive() grants the whole window
    conn.open(2, path=b"/echo", method="POST", body_mode=BodyMode.EXPECT_CONTINUE)
    assert conn.recv() == [Kind.CREDIT, 2, 100]
    conn.send(m.event(2, Event.HTTP_REQUEST, b"hi", False))
    assert conn.response(2)["body"] == b"hi"


def test_expect_continue_body_before_credit_is_a_violation(front: FakeFront) -> None:
    conn, _ = front.connect("--window", "100")
    conn.open(1, path=b"/sleep", query=b"s=1", method="POST", body_mode=BodyMode.EXPECT_CONTINUE)
    conn.send(m.event(1, Event.HTTP_REQUEST, b"x", False))
    conn.expect_eof()


# --- responses ---------------------------------------------------------------------------


def test_response_body_waits_for_credit(front: FakeFront) -> None:
    conn, _ = front.connect(window=1000)
    conn.open(1, path=b"/big", query=b"n=2500")
    assert conn.recv()[2] == Event.HTTP_RESPONSE_START
    assert conn.recv() == [Kind.EVENT, 1, Event.HTTP_RESPONSE_BODY, b"x" * 1000, True]
    assert conn.nothing_within(0.3)  # window used up: the worker waits
    conn.send(m.credit(1, 600))
    assert conn.recv() == [Kind.EVENT, 1, Event.HTTP_RESPONSE_BODY, b"x" * 600, True]
    conn.send(m.credit(1, 5000))
    assert conn.recv() == [Kind.EVENT, 1, Event.HTTP_RESPONSE_BODY, b"x" * 900, False]
    assert conn.recv() == [Kind.END, 1, 0, True, ""]


def test_one_credits_message_grants_several_scopes(front: FakeFront) -> None:
    conn, _ = front.connect(window=1000)
    conn.open(1, path=b"/big", query=b"n=1300")
    conn.open(2, path=b"/big", query=b"n=1200")
    got = [conn.recv() for _ in range(4)]  # START and a full window each
    assert sorted(msg[1] for msg in got if msg[2] == Event.HTTP_RESPONSE_BODY) == [1, 2]
    assert conn.nothing_within(0.3)  # both wait for credit
    conn.send(m.credits({2: 200, 1: 300, 99: 5}))  # an unknown scope is ignored
    rest = [conn.recv() for _ in range(4)]
    bodies = {msg[1]: msg[3:] for msg in rest if msg[0] == Kind.EVENT}
    assert bodies == {1: [b"x" * 300, False], 2: [b"x" * 200, False]}
    assert sorted(msg[1] for msg in rest if msg[0] == Kind.END) == [1, 2]


def test_response_body_is_split_to_the_front_frame_limit(front: FakeFront) -> None:
    conn, _ = front.connect(window=1 << 20, max_frame_size=1000)
    conn.open(1, path=b"/big", query=b"n=5000")
    r = conn.response(1)
    assert r["body"] == b"x" * 5000
    assert all(len(b) + 64 <= 1000 for b, _ in r["bodies"])
    assert [more for _, more in r["bodies"]][-1] is False


def test_file_body_passes_an_open_descriptor(front: FakeFront, tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"0123456789")
    conn, _ = front.connect()
    conn.open(1, path=b"/file", query=f"path={path}&offset=2&length=5".encode())
    assert conn.recv()[2] == Event.HTTP_RESPONSE_START
    assert conn.recv() == [Kind.EVENT, 1, Event.HTTP_RESPONSE_FILE, 2, 5]
    assert len(conn.fds) == 1
    fd = conn.fds.popleft()
    try:
        assert os.pread(fd, 5, 2) == b"23456"
    finally:
        os.close(fd)
    assert conn.recv() == [Kind.END, 1, 0, True, ""]
    # to the end of the file, twice in a row: one descriptor per frame, in order
    conn.open(2, path=b"/file", query=f"path={path}".encode())
    conn.open(3, path=b"/file", query=f"path={path}&offset=9".encode())
    r2, r3 = conn.response(2), conn.response(3)
    assert r2["end"] == r3["end"] == [0, True, ""]
    assert r2["file"] == [0, None] and r3["file"] == [9, None]
    assert len(conn.fds) == 2
    for fd in list(conn.fds):
        assert os.pread(fd, 100, 0) == b"0123456789"


def test_unopenable_file_raises_in_send(front: FakeFront, tmp_path: Path) -> None:
    conn, _ = front.connect()
    missing = tmp_path / "missing.bin"
    conn.open(1, path=b"/file", query=f"path={missing}".encode())
    r = conn.response(1)
    outcome, started, detail = r["end"]
    assert outcome == 1 and started is True
    assert detail.startswith("FileNotFoundError: [Errno 2]") and str(missing) in detail
    assert not conn.fds


def test_trailers(front: FakeFront) -> None:
    conn, _ = front.connect()
    conn.open(1, path=b"/trailers")
    r = conn.response(1)
    assert r["has_trailers"] is True
    assert r["bodies"] == [(b"data", False)]
    assert r["trailers"] == [[b"x-sum", b"1"]]


def test_app_exception_is_logged_and_ended(front: FakeFront) -> None:
    conn, _ = front.connect()
    conn.open(1, path=b"/raise", query=b"q=1", method="PUT")
    assert conn.recv() == [Kind.END, 1, 1, False, "ValueError: boom"]
    conn.open(2, path=b"/no-response")
    assert conn.recv() == [Kind.END, 2, 0, False, ""]
    conn.send(m.ping(1))
    assert conn.recv() == [Kind.PONG, 0, 1]
    log = front.log()
    assert "exception in the app for PUT /raise?q=1" in log
    assert "Traceback" in log and "second line" in log
    assert "returned without sending a response for GET /no-response" in log


def test_invalid_event_raises_in_the_apps_send(front: FakeFront) -> None:
    conn, _ = front.connect()
    conn.open(1, path=b"/bad-send")
    r = conn.response(1)
    assert r["body"] == (
        b"InvalidEvent: http.response.start: 'status' must be an int from 100 to 999, got '200'"
    )
