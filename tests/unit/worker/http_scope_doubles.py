"""An http scope (``POST /p``) over a recording link: what the http scope tests share."""

from __future__ import annotations

from typing import Any

from pagi.protocol import BodyMode
from pagi.protocol import messages as m
from pagi.worker.http_scope import HTTPScope
from worker_doubles import StubSession


def make_scope(body_mode: BodyMode = BodyMode.NONE, **kw: Any) -> tuple[HTTPScope, StubSession]:
    session = StubSession(**kw)
    msg = m.open_scope(3, "http", "1.1", "POST", "http", b"/p", b"", [], None, None, {}, body_mode)
    return HTTPScope(session, msg), session  # type: ignore[arg-type]


START = {"type": "http.response.start", "status": 200, "headers": []}


def body(data: bytes = b"", more: bool = False) -> dict[str, Any]:
    return {"type": "http.response.body", "body": data, "more": more}
