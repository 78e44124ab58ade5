"""Scopes of each type over a recording link, for the PAGI Www 0.6 duty tests."""

from __future__ import annotations

from typing import Any

from pagi.protocol import BodyMode, Kind
from pagi.protocol import messages as m
from pagi.worker.http_scope import HTTPScope
from pagi.worker.interface import PAGI_INTERFACE, Interface
from pagi.worker.websocket_scope import WebSocketScope
from worker_doubles import StubSession

START = {"type": "http.response.start", "status": 200, "headers": []}


def open_msg(kind: str, http_version: str = "1.1") -> list[Any]:
    return m.open_scope(
        3, kind, http_version, "GET", "http", b"/p", b"", [], None, None, {}, BodyMode.NONE
    )


def http(
    interface: Interface = PAGI_INTERFACE, http_version: str = "1.1"
) -> tuple[HTTPScope, StubSession]:
    session = StubSession(interface=interface)
    return HTTPScope(session, open_msg("http", http_version)), session  # type: ignore[arg-type]


def ws(interface: Interface = PAGI_INTERFACE) -> tuple[WebSocketScope, StubSession]:
    session = StubSession(interface=interface)
    return WebSocketScope(session, open_msg("websocket")), session  # type: ignore[arg-type]


def kinds(session: StubSession) -> list[tuple[int, ...]]:
    """What went to the front: (kind,) or (EVENT, code), in order."""
    return [(msg[0], msg[2]) if msg[0] == Kind.EVENT else (msg[0],) for msg in session.link.sent]
