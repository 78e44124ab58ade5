"""One websocket scope on a worker link, as seen from the front.

:class:`WSLinkScope` is the websocket counterpart of
:class:`~.link_scope.LinkScope` (same attributes, same ``on_event``): it holds
the worker's events of one ``type: "websocket"`` scope to the order the link
protocol allows, counts ``WS_SEND`` data against the response window, and
passes the events on to the scope's handler (:class:`~.handlers.WSScopeHandler`, the
front's WebSocket stream).

Allowed order (anything else raises :class:`~.link_io.LinkViolation`, which
drops the whole worker)::

    HANDSHAKE --WS_ACCEPT--> OPEN --WS_CLOSE--> CLOSED
    HANDSHAKE --WS_CLOSE--> CLOSED                       (deny: 403)
    HANDSHAKE --HTTP_RESPONSE_START--> DENYING --BODY more=False--> CLOSED

``WS_SEND`` only while OPEN; ``WS_KEEPALIVE`` in any state (it is a setting);
``WS_RESUMABLE`` and ``WS_RESUME_STATE`` only after the accept (docs/resume.md);
``HTTP_RESPONSE_BODY`` only while DENYING. All pieces of one message have the
same type (``str`` or ``bytes``). ``WS_SEND`` data (code points for ``str``)
and denial body bytes never exceed ``window``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from pagi.protocol import Event
from pagi.protocol.fields import (
    ACCEPT_HEADERS,
    ACCEPT_SUBPROTOCOL,
    BODY,
    KEEPALIVE_INTERVAL,
    MORE,
    START_HEADERS,
    START_STATUS,
    START_TRAILERS,
    WS_CLOSE_CODE,
    WS_CLOSE_REASON,
    WS_DATA,
    WS_KEEPALIVE_TIMEOUT,
)
from pagi.protocol.kinds import HTTP_RESPONSE_BODY as _BODY
from pagi.protocol.kinds import HTTP_RESPONSE_START as _START
from pagi.protocol.kinds import WS_ACCEPT as _ACCEPT
from pagi.protocol.kinds import WS_CLOSE as _CLOSE
from pagi.protocol.kinds import WS_KEEPALIVE as _KEEPALIVE
from pagi.protocol.kinds import WS_RESUMABLE as _RESUMABLE
from pagi.protocol.kinds import WS_RESUME_STATE as _RESUME_STATE
from pagi.protocol.kinds import WS_SEND as _SEND

from .io import LinkViolation

if TYPE_CHECKING:
    from .handlers import WSScopeHandler

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


class WSLinkScope:
    """The link's record of one open websocket scope (kept until the worker's END)."""

    __slots__ = ("handler", "piece_type", "state", "window")

    def __init__(self, handler: WSScopeHandler, window: int) -> None:
        self.handler: WSScopeHandler | None = handler  # None once the front sent WS_DISCONNECT
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
            data = msg[WS_DATA]
            more = msg[MORE]
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
                handler.on_ws_accept(msg[ACCEPT_SUBPROTOCOL], msg[ACCEPT_HEADERS])
        elif code == _CLOSE:
            if state not in (HANDSHAKE, OPEN):
                raise LinkViolation(f"scope {sid}: WS_CLOSE {_STATE_NAMES[state]}")
            self.state = CLOSED
            if handler is not None:
                handler.on_ws_close(msg[WS_CLOSE_CODE], msg[WS_CLOSE_REASON])
        elif code == _KEEPALIVE:
            if handler is not None:
                handler.on_ws_keepalive(msg[KEEPALIVE_INTERVAL], msg[WS_KEEPALIVE_TIMEOUT])
        elif code in (_RESUMABLE, _RESUME_STATE):
            if state in (HANDSHAKE, DENYING):
                raise LinkViolation(f"scope {sid}: {Event(code).name} {_STATE_NAMES[state]}")
            if handler is None:
                pass
            elif code == _RESUMABLE:
                handler.on_ws_resumable()
            else:
                handler.on_ws_resume_state(msg[3])
        elif code == _START:
            if state != HANDSHAKE:
                raise LinkViolation(f"scope {sid}: HTTP_RESPONSE_START {_STATE_NAMES[state]}")
            if msg[START_TRAILERS]:
                raise LinkViolation(f"scope {sid}: trailers announced on a websocket denial")
            if len(msg) != 6:
                raise LinkViolation(f"scope {sid}: a websocket denial's start carries a body")
            self.state = DENYING
            if handler is not None:
                handler.on_response_start(msg[START_STATUS], msg[START_HEADERS], False)
        elif code == _BODY:
            if state != DENYING:
                raise LinkViolation(f"scope {sid}: HTTP_RESPONSE_BODY {_STATE_NAMES[state]}")
            body = msg[BODY]
            self.window -= len(body)
            if self.window < 0:
                raise LinkViolation(
                    f"scope {sid}: response body exceeds the granted window by {-self.window} bytes"
                )
            more = msg[MORE]
            if not more:
                self.state = CLOSED
            if handler is not None:
                handler.on_response_body(body, more)
        else:
            raise LinkViolation(f"scope {sid}: {Event(code).name} on a websocket scope")
