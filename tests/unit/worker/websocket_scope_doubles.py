"""A websocket scope (``/ws``) over a recording link: what the in-process websocket
scope tests share.
"""

from __future__ import annotations

from typing import Any

from pagi.protocol import BodyMode, Kind
from pagi.protocol import messages as m
from pagi.worker.interface import ASGI_INTERFACE
from pagi.worker.websocket_scope import WebSocketScope
from worker_doubles import StubSession


def make_ws(subprotocols: list[str] | None = None, **kw: Any) -> tuple[WebSocketScope, StubSession]:
    """A websocket scope of an ASGI app (most tests here drive the ASGI denial
    events); ``interface=PAGI_INTERFACE`` for a PAGI app."""
    kw.setdefault("interface", ASGI_INTERFACE)
    session = StubSession(**kw)
    extras = {} if subprotocols is None else {"subprotocols": subprotocols}
    msg = m.open_scope(
        5, "websocket", "1.1", "GET", "wss", b"/ws", b"", [], None, None, extras, BodyMode.NONE
    )
    return WebSocketScope(session, msg), session  # type: ignore[arg-type]


def sent(session: StubSession) -> list[list[Any]]:
    out = [msg[2:] if msg[0] == Kind.EVENT else msg for msg in session.link.sent]
    session.link.sent.clear()
    return out


ACCEPT = {"type": "websocket.accept"}


def wsend(text: str | None = None, data: bytes | None = None) -> dict[str, Any]:
    return {"type": "websocket.send", "text": text, "bytes": data}
