"""Protocol conformance of a real pagi-worker process, with the test as its front.

Each test listens on a real UNIX socket, starts ``python -m pagi.worker`` on
``tests/apps/worker_link_app.py``, and speaks the link protocol with the codec
from ``pagi.protocol``: HELLO/WELCOME, OPEN, events, CREDIT, CLOSE, DRAIN,
file descriptors over SCM_RIGHTS, malformed input, signals.
"""

from __future__ import annotations

import array
import collections
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pagi.protocol import (
    PROTOCOL_VERSION,
    BodyMode,
    Event,
    Kind,
    LinkDecoder,
    encode_many,
)
from pagi.protocol import messages as m

REPO = Path(__file__).resolve().parents[3]
APPS = REPO / "tests" / "apps"
APP = "worker_link_app:app"

Message = list[Any]


class FrontConn:
    """The front's end of one accepted worker link (blocking, with timeouts)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.decoder = LinkDecoder("front")
        self.msgs: collections.deque[Message] = collections.deque()
        self.fds: collections.deque[int] = collections.deque()
        self.eof = False

    def _fill(self, timeout: float) -> None:
        self.sock.settimeout(timeout)
        data, ancdata, _flags, _addr = self.sock.recvmsg(65536, socket.CMSG_SPACE(4 * 64))
        for level, kind, cdata in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(cdata[: len(cdata) - len(cdata) % fds.itemsize])
                self.fds.extend(fds)
        if not data:
            self.eof = True
            raise EOFError("worker closed the link")
        self.msgs.extend(self.decoder.feed(data))

    def recv(self, timeout: float = 5.0) -> Message:
        deadline = time.monotonic() + timeout
        while not self.msgs:
            self._fill(max(0.01, deadline - time.monotonic()))
        return self.msgs.popleft()

    def nothing_within(self, seconds: float) -> bool:
        """True if no message arrives within ``seconds``."""
        if self.msgs:
            return False
        try:
            self._fill(seconds)
        except TimeoutError:
            return True
        return not self.msgs

    def expect_eof(self, timeout: float = 5.0) -> list[Message]:
        """Messages received until the worker closes the link."""
        got: list[Message] = []
        deadline = time.monotonic() + timeout
        while True:
            while self.msgs:
                got.append(self.msgs.popleft())
            try:
                self._fill(max(0.01, deadline - time.monotonic()))
            except EOFError:
                got.extend(self.msgs)
                self.msgs.clear()
                return got

    def send(self, *msgs: Message) -> None:
        self.sock.sendall(encode_many(msgs))

    def handshake(self, window: int = 65536, max_frame_size: int = 1 << 24) -> Message:
        hello = self.recv()
        assert hello[0] == Kind.HELLO
        self.send(
            m.welcome(
                PROTOCOL_VERSION,
                {"window": window, "worker_id": 7, "max_frame_size": max_frame_size},
            )
        )
        return hello

    def open(
        self,
        sid: int,
        path: bytes = b"/hello",
        query: bytes = b"",
        method: str = "GET",
        body_mode: BodyMode = BodyMode.NONE,
        headers: list[list[bytes]] | None = None,
        extras: dict[str, Any] | None = None,
    ) -> None:
        self.send(
            m.open_scope(
                sid,
                "http",
                "1.1",
                method,
                "http",
                path,
                query,
                headers if headers is not None else [[b"host", b"example"]],
                ["127.0.0.1", 40000],
                ["127.0.0.1", 8000],
                extras or {},
                body_mode,
            )
        )

    def response(self, sid: int, timeout: float = 5.0) -> dict[str, Any]:
        """Collect one scope's START, BODY... and END (other scopes' messages are kept)."""
        out: dict[str, Any] = {"body": b"", "bodies": [], "trailers": None}
        deadline = time.monotonic() + timeout
        kept: list[Message] = []
        while True:
            msg = self.recv(max(0.01, deadline - time.monotonic()))
            if msg[1] != sid:
                kept.append(msg)
                continue
            if msg[0] == Kind.EVENT and msg[2] == Event.HTTP_RESPONSE_START:
                out["status"], out["headers"], out["has_trailers"] = msg[3:6]
                out["merged"] = len(msg) == 8  # START carried the first body piece
                if len(msg) == 8:
                    out["body"] += msg[6]
                    out["bodies"].append((msg[6], msg[7]))
            elif msg[0] == Kind.EVENT and msg[2] == Event.HTTP_RESPONSE_BODY:
                out["body"] += msg[3]
                out["bodies"].append((msg[3], msg[4]))
            elif msg[0] == Kind.EVENT and msg[2] == Event.HTTP_RESPONSE_FILE:
                out["file"] = msg[3:]
            elif msg[0] == Kind.EVENT and msg[2] == Event.HTTP_RESPONSE_TRAILERS:
                out["trailers"] = msg[3]
            elif msg[0] == Kind.END:
                out["end"] = msg[2:]
                self.msgs.extendleft(reversed(kept))
                return out
            else:
                raise AssertionError(f"unexpected message {msg!r}")

    def close(self) -> None:
        self.sock.close()
        while self.fds:
            os.close(self.fds.popleft())


class FakeFront:
    """A listening workers.sock plus the worker process under test."""

    app = APP  # MODULE:ATTR in tests/apps (subclasses serve other apps)

    def __init__(self, log_dir: Path) -> None:
        # short path: sun_path is limited to 107 bytes
        self.dir = tempfile.mkdtemp(prefix="pw-")
        self.path = os.path.join(self.dir, "workers.sock")
        self.log_path = log_dir / "worker.log"
        self.listener: socket.socket | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.conns: list[FrontConn] = []

    def listen(self) -> None:
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(8)

    def start_worker(self, *args: str, env: dict[str, str] | None = None) -> None:
        argv = [
            sys.executable,
            "-m",
            "pagi.worker",
            self.app,
            "--socket-dir",
            self.dir,
            "--app-dir",
            str(APPS),
            "--log-level",
            "debug",
            *args,
        ]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=REPO,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )

    def accept(self, timeout: float = 10.0) -> FrontConn:
        assert self.listener is not None
        self.listener.settimeout(timeout)
        sock, _ = self.listener.accept()
        conn = FrontConn(sock)
        self.conns.append(conn)
        return conn

    def connect(
        self,
        *args: str,
        window: int = 65536,
        env: dict[str, str] | None = None,
        max_frame_size: int = 1 << 24,
    ) -> tuple[FrontConn, Message]:
        """Listen, start a worker, accept it and complete the handshake."""
        self.listen()
        self.start_worker(*args, env=env)
        conn = self.accept()
        return conn, conn.handshake(window, max_frame_size)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 10.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        for conn in self.conns:
            conn.close()
        if self.listener is not None:
            self.listener.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def front(tmp_path: Path) -> Iterator[FakeFront]:
    f = FakeFront(tmp_path)
    try:
        yield f
    finally:
        f.cleanup()


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
    assert info["pagi"] == {"version": "0.3", "spec_version": "0.3"}
    assert info["asgi"]["version"] == "3.0"
    assert info["http_version"] == "1.1" and info["method"] == "GET"
    assert info["scheme"] == "http" and info["type"] == "http"
    assert front.proc is not None
    assert info["state"] == {"started_pid": front.proc.pid, "worker_num": 2}
    assert "http.response.trailers" in info["extensions"] and "tls" in info["extensions"]


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
    rest = conn.expect_eof()
    assert [Kind.END, 1, 0, True, ""] in rest
    assert front.wait() == 0
    assert marker.read_text() == "lifespan.shutdown"


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
