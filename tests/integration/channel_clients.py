"""WebSocket members of tests/apps/channels_app.py, for the channel tests."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from typing import Any

from websockets.sync.client import ClientConnection, connect


class Member:
    """One WebSocket client joined to a group; knows its channel and worker pid."""

    def __init__(self, port: int, group: str, query: str = "") -> None:
        url = f"ws://127.0.0.1:{port}/ws/{group}" + (f"?{query}" if query else "")
        self._stack = ExitStack()
        self.ws: ClientConnection = self._stack.enter_context(connect(url, open_timeout=10))
        ready = self.recv()
        self.channel: str = ready["ready"]
        self.pid: int = ready["pid"]
        self.extensions: dict[str, Any] = ready["ext"]

    def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        data = self.ws.recv(timeout=timeout)
        assert isinstance(data, str)
        result: dict[str, Any] = json.loads(data)
        return result

    def command(self, op: str, **fields: Any) -> None:
        self.ws.send(json.dumps({"op": op, **fields}))

    def group_send(self, group: str, message: dict[str, Any]) -> None:
        self.command("group_send", group=group, message=message)

    def got(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        """The next ``count`` channel messages (other replies are a failure)."""
        deadline = time.monotonic() + timeout
        out = []
        while len(out) < count:
            reply = self.recv(max(0.1, deadline - time.monotonic()))
            assert "got" in reply, reply
            out.append(reply["got"])
        return out

    def stats(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Ask for the app's stats: (channel messages that came first, stats)."""
        self.command("stats")
        before = []
        while "stats" not in (reply := self.recv()):
            before.append(reply["got"])
        return before, reply["stats"]

    def nothing_more(self, wait: float = 0.3) -> None:
        try:
            extra = self.ws.recv(timeout=wait)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message {extra!r}")

    def close(self) -> None:
        self._stack.close()


def spread(port: int, group: str, count: int, workers: int, query: str = "") -> list[Member]:
    """``count`` members of ``group`` that together sit on ``workers`` distinct
    workers (the pool routes a new scope to the least busy worker)."""
    members = [Member(port, group, query) for _ in range(count)]
    pids = {m.pid for m in members}
    assert len(pids) == workers, f"members landed on {len(pids)} worker(s), not {workers}"
    return members
