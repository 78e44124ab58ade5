"""The test as the front of a worker running tests/apps/ws_worker_app.py.

``ws_front_fixture`` is the ``front`` fixture of test_worker_websocket.py and
test_worker_websocket_messages.py; :class:`Peer` reads one scope's messages.
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


@pytest.fixture(name="front")
def ws_front_fixture(tmp_path: Path) -> Iterator[WSFront]:
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
