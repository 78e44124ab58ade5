"""An sse scope over a recording link that takes no files: what the sse scope tests share.

``make`` opens ``GET /events`` (``POST`` with a body mode) with ``Last-Event-ID: 41``.
"""

from __future__ import annotations

from typing import Any

from pagi.protocol import BodyMode
from pagi.protocol import messages as m
from pagi.worker.sse_scope import SSEScope
from worker_doubles import RecordingLink, StubSession

SSE_HEADERS = [[b"content-type", b"text/event-stream"], [b"cache-control", b"no-cache"]]


class NoFilesLink(RecordingLink):
    def send_with_fd(self, msg: list[Any], fd: int) -> None:
        raise AssertionError("no files on sse scopes")


def open_msg(
    body_mode: BodyMode = BodyMode.NONE, method: str = "GET", extras: dict[str, Any] | None = None
) -> list[Any]:
    headers = [[b"accept", b"text/event-stream"], [b"last-event-id", b"41"]]
    return m.open_scope(
        3,
        "sse",
        "1.1",
        method,
        "http",
        b"/events",
        b"a=1",
        headers,
        None,
        None,
        extras or {},
        body_mode,
    )


def make(
    app: Any = None, body_mode: BodyMode = BodyMode.NONE, replay: bool = False, **kw: Any
) -> tuple[SSEScope, StubSession]:
    session = StubSession(app, link=NoFilesLink(), **kw)
    method = "GET" if body_mode == BodyMode.NONE else "POST"
    return SSEScope(session, open_msg(body_mode, method), replay=replay), session  # type: ignore[arg-type]


def sse_send(data: str = "x", **kw: Any) -> dict[str, Any]:
    return {"type": "sse.send", "data": data, **kw}
