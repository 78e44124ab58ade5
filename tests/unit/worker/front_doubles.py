"""The test as pagi-front: what the worker-link and worker-websocket tests share.

:class:`FakeFront` listens on a real UNIX socket, starts ``python -m
pagi.worker`` on an app of ``tests/apps``, and speaks the link protocol with
the codec (:class:`FrontConn`, one accepted link). ``front_fixture`` is the
``front`` fixture of test_worker_link.py and test_worker_link_lifecycle.py.
"""

from __future__ import annotations

import array
import collections
import os
import shutil
import socket
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

    def handshake(
        self, window: int = 65536, max_frame_size: int = 1 << 24, body_ring: int = 0
    ) -> Message:
        """HELLO in, WELCOME out (offering a body ring of ``body_ring`` bytes if > 0)."""
        hello = self.recv()
        assert hello[0] == Kind.HELLO
        info: dict[str, Any] = {
            "window": window,
            "worker_id": 7,
            "max_frame_size": max_frame_size,
            "ws_max_size": 1 << 24,
            "ws_max_queue": 1 << 24,
        }
        if body_ring:
            info["body_ring"] = body_ring
        self.send(m.welcome(PROTOCOL_VERSION, info))
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
        body_ring: int = 0,
    ) -> tuple[FrontConn, Message]:
        """Listen, start a worker, accept it and complete the handshake."""
        self.listen()
        self.start_worker(*args, env=env)
        conn = self.accept()
        return conn, conn.handshake(window, max_frame_size, body_ring)

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


@pytest.fixture(name="front")
def front_fixture(tmp_path: Path) -> Iterator[FakeFront]:
    f = FakeFront(tmp_path)
    try:
        yield f
    finally:
        f.cleanup()
