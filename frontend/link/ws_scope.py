"""One websocket scope on a worker link, as seen from the front.

:class:`WSLinkScope` is the websocket counterpart of
:class:`~.link_scope.LinkScope` (same attributes, same ``on_event``): it holds
the worker's events of one ``type: "websocket"`` scope to the order the link
protocol allows, counts ``WS_SEND`` data against the response window, and
passes the events on to the scope's handler (:class:`WSScopeHandler`, the
front's :class:`~.websocket.WebSocketConnection`).

Allowed order (anything else raises :class:`~.link_io.LinkViolation`, which
drops the whole worker)::

    HANDSHAKE --WS_ACCEPT--> OPEN --WS_CLOSE--> CLOSED
    HANDSHAKE --WS_CLOSE--> CLOSED                       (deny: 403)
    HANDSHAKE --HTTP_RESPONSE_START--> DENYING --BODY more=False--> CLOSED

``WS_SEND`` only while OPEN; ``WS_KEEPALIVE`` in any state (it is a setting);
``HTTP_RESPONSE_BODY`` only while DENYING. All pieces of one message have the
same type (``str`` or ``bytes``). ``WS_SEND`` data (code points for ``str``)
and denial body bytes never exceed ``window``.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from pagi.protocol import Event
from pagi.protocol.kinds import HTTP_RESPONSE_BODY as _BODY
from pagi.protocol.kinds import HTTP_RESPONSE_START as _START
from pagi.protocol.kinds import WS_ACCEPT as _ACCEPT
from pagi.protocol.kinds import WS_CLOSE as _CLOSE
from pagi.protocol.kinds import WS_KEEPALIVE as _KEEPALIVE
from pagi.protocol.kinds import WS_SEND as _SEND

from .io import LinkViolation

HANDSHAKE = 0
OPEN = 1
DENYING = 2
CLOSED = 3

_STATE_NAMES = (
    "before the handshake was answered",
    "after accept",
    "during a denial",
    "after close",
)


class WSScopeHandler(Protocol):
    """What a websocket scope's handler receives besides the http denial events."""

    def on_response_start(
        self, status: int, headers: list[list[bytes]], trailers: bool
    ) -> None: ...
    def on_response_body(self, body: bytes, more: bool) -> None: ...
    def on_ws_accept(self, subprotocol: str | None, headers: list[list[bytes]]) -> None: ...
    def on_ws_send(self, data: str | bytes, more: bool) -> None: ...
    def on_ws_close(self, code: int, reason: str) -> None: ...
    def on_ws_keepalive(self, interval: float, timeout: float | None) -> None: ...
    def on_request_credit(self, nbytes: int) -> None: ...
    def on_end(self, outcome: int, response_started: bool, detail: str) -> None: ...
    def on_worker_lost(self) -> None: ...


class WSLinkScope:
    """The link's record of one open websocket scope (kept until the worker's END)."""

    __slots__ = ("handler", "piece_type", "state", "window")

    def __init__(self, handler: Any, window: int) -> None:
        self.handler: Any = handler  # None once the front sent WS_DISCONNECT
        self.state = HANDSHAKE
        self.window = window  # WS_SEND units / denial body bytes the worker may still send
        self.piece_type: type | None = None  # type of the unfinished outgoing message

    def on_event(self, sid: int, code: int, msg: list[Any], fd: int) -> None:
        """Apply one validated EVENT (``msg``) of scope ``sid`` (``fd`` is -1 here)."""
        if fd >= 0:
            os.close(fd)
            raise LinkViolation(f"scope {sid}: HTTP_RESPONSE_FILE on a websocket scope")
        handler = self.handler
        state = self.state
        if code == _SEND:
            if state != OPEN:
                raise LinkViolation(f"scope {sid}: WS_SEND {_STATE_NAMES[state]}")
            data = msg[3]
            more = msg[4]
            kind = type(data)
            if self.piece_type is not None and kind is not self.piece_type:
                raise LinkViolation(f"scope {sid}: WS_SEND mixes text and bytes in one message")
            self.piece_type = kind if more else None
            self.window -= len(data)
            if self.window < 0:
                raise LinkViolation(
                    f"scope {sid}: WS_SEND exceeds the granted window by {-self.window}"
                )
            if handler is not None:
                handler.on_ws_send(data, more)
        elif code == _ACCEPT:
            if state != HANDSHAKE:
                raise LinkViolation(f"scope {sid}: WS_ACCEPT {_STATE_NAMES[state]}")
            self.state = OPEN
            if handler is not None:
                handler.on_ws_accept(msg[3], msg[4])
        elif code == _CLOSE:
            if state not in (HANDSHAKE, OPEN):
                raise LinkViolation(f"scope {sid}: WS_CLOSE {_STATE_NAMES[state]}")
            self.state = CLOSED
            if handler is not None:
                handler.on_ws_close(msg[3], msg[4])
        elif code == _KEEPALIVE:
            if handler is not None:
                handler.on_ws_keepalive(msg[3], msg[4])
        elif code == _START:
            if state != HANDSHAKE:
                raise LinkViolation(f"scope {sid}: HTTP_RESPONSE_START {_STATE_NAMES[state]}")
            if msg[5]:
                raise LinkViolation(f"scope {sid}: trailers announced on a websocket denial")
            if len(msg) != 6:
                raise LinkViolation(f"scope {sid}: a websocket denial's start carries a body")
            self.state = DENYING
            if handler is not None:
                handler.on_response_start(msg[3], msg[4], False)
        elif code == _BODY:
            if state != DENYING:
                raise LinkViolation(f"scope {sid}: HTTP_RESPONSE_BODY {_STATE_NAMES[state]}")
            body = msg[3]
            self.window -= len(body)
            if self.window < 0:
                raise LinkViolation(
                    f"scope {sid}: response body exceeds the granted window by {-self.window} bytes"
                )
            if not msg[4]:
                self.state = CLOSED
            if handler is not None:
                handler.on_response_body(body, msg[4])
        else:
            raise LinkViolation(f"scope {sid}: {Event(code).name} on a websocket scope")
