"""One connection to pagi-front: handshake, scope table, message dispatch.

A :class:`Session` owns one :class:`~pagi.worker.link.Link`. It sends HELLO at
once and accepts only WELCOME or REJECT until the handshake is over; after
WELCOME it dispatches every message to the scope it names (messages for scope
ids it no longer knows are ignored: they crossed an END on the wire).

Rules it enforces beyond the codec (a violation drops the link, like
malformed input): nothing but WELCOME/REJECT before the handshake completes,
no second WELCOME, scope ids of OPEN strictly increasing, no WebSocket event
for a non-websocket scope, and the request-body and WebSocket-message rules
checked by each scope.

When the link closes, for whatever reason, every scope still in the table sees
its client side end with reason ``server_shutdown`` and the table is emptied;
those scopes' apps keep running to their end, but what they send goes nowhere.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import TYPE_CHECKING, Any

from pagi.protocol import (
    DEFAULT_MAX_FRAME_SIZE,
    PROTOCOL_VERSION,
    Event,
    Kind,
    LinkError,
    reasons,
)
from pagi.protocol import messages as m
from pagi.protocol.kinds import CLOSE as _CLOSE
from pagi.protocol.kinds import CREDIT as _CREDIT
from pagi.protocol.kinds import CREDITS as _CREDITS
from pagi.protocol.kinds import DRAIN as _DRAIN
from pagi.protocol.kinds import EVENT as _EVENT
from pagi.protocol.kinds import HTTP_REQUEST as _HTTP_REQUEST
from pagi.protocol.kinds import OPEN as _OPEN
from pagi.protocol.kinds import PING as _PING
from pagi.protocol.kinds import PONG as _PONG
from pagi.protocol.kinds import REJECT as _REJECT
from pagi.protocol.kinds import RING_DONE as _RING_DONE
from pagi.protocol.kinds import WELCOME as _WELCOME

from .body_ring import BodyRing
from .channels import ScopeChannels, Sender
from .channels.welcome import read_channels_welcome
from .http_scope import HTTPScope
from .link import Link
from .scope_base import ScopeBase
from .sse_scope import open_sse_scope
from .websocket_scope import WebSocketScope

if TYPE_CHECKING:
    from .runner import Worker

logger = logging.getLogger("pagi.worker")

#: Kinds at or above this one are channel messages (GROUP_DELIVER, CHANNEL_DELIVER).
_FIRST_CHANNEL_KIND = int(Kind.GROUP_DELIVER)


#: Largest body piece relative to the frame limit (room for the frame header).
_BODY_FRAME_OVERHEAD = 64


class Session:
    __slots__ = (
        "_last_sid",
        "_ready",
        "_worker",
        "app",
        "channel_sender",
        "closed",
        "interface",
        "link",
        "loop",
        "max_body_piece",
        "max_frame_size",
        "reject_reason",
        "request_window",
        "response_window",
        "ring",
        "root_path",
        "scopes",
        "state",
        "welcomed",
        "worker_id",
        "ws_max_queue",
        "ws_max_size",
    )

    def __init__(self, worker: Worker, sock: socket.socket) -> None:
        # Kept, not asked for: in Python 3.11 every asyncio.get_running_loop()
        # is a getpid() system call.
        self.loop = loop = asyncio.get_running_loop()
        config = worker.config
        self._worker = worker
        self.app = worker.app
        self.root_path = config.root_path
        self.state = worker.state
        self.interface = worker.interface
        self.ws_max_size: int | None = None  # the front's limits (WELCOME), for the ws scope
        self.ws_max_queue: int | None = None
        self.request_window = config.window
        self.response_window = 0  # from WELCOME
        self.max_frame_size = DEFAULT_MAX_FRAME_SIZE  # the front's limit, from WELCOME
        self.max_body_piece = DEFAULT_MAX_FRAME_SIZE - _BODY_FRAME_OVERHEAD
        self.worker_id: int | None = None
        #: The link's body ring, when the front offered one (WELCOME ``body_ring``).
        self.ring: BodyRing | None = None
        self.scopes: dict[int, ScopeBase] = {}
        #: The shared send-only channel API of http scopes (None: the front
        #: offers no channels); websocket/sse scopes get their own.
        self.channel_sender: Sender | None = None
        self._last_sid = 0
        self._ready = False  # WELCOME received
        self.reject_reason: str | None = None
        #: True on WELCOME; False on REJECT or a link lost before WELCOME.
        self.welcomed: asyncio.Future[bool] = loop.create_future()
        #: Resolved when the link has closed, whatever the cause.
        self.closed: asyncio.Future[None] = loop.create_future()
        self.link = Link(loop, sock, self)
        self.link.send(
            m.hello(
                PROTOCOL_VERSION,
                {
                    "pid": os.getpid(),
                    "name": config.display_name,
                    "app": config.app,
                    "interface": worker.interface.hello_name,
                    "capacity": config.capacity,
                    "window": config.window,
                },
            )
        )

    @property
    def stopping(self) -> bool:
        return self._worker.stopping

    # --- LinkHandler ----------------------------------------------------------------

    def message_received(self, msg: list[Any]) -> None:
        kind = msg[0]
        if not self._ready and kind != _WELCOME and kind != _REJECT:
            raise LinkError(f"{Kind(kind).name} before WELCOME")
        if kind == _EVENT:
            scope = self.scopes.get(msg[1])
            if scope is not None:
                if msg[2] == _HTTP_REQUEST:
                    scope.on_request_body(msg[3], msg[4])
                elif isinstance(scope, WebSocketScope):  # WS_RECEIVE, _DISCONNECT, _RETURN_CREDIT
                    scope.on_ws_event(msg)
                else:
                    raise LinkError(f"scope {msg[1]}: {Event(msg[2]).name} on a non-ws scope")
        elif kind == _CREDIT:
            scope = self.scopes.get(msg[1])
            if scope is not None:
                scope.on_credit(msg[2])
        elif kind == _CREDITS:
            pairs = msg[2]
            scopes = self.scopes
            for i in range(0, len(pairs), 2):
                scope = scopes.get(pairs[i])
                if scope is not None:
                    scope.on_credit(pairs[i + 1])
        elif kind == _OPEN:
            self._open(msg)
        elif kind == _RING_DONE:
            if self.ring is None:
                raise LinkError("RING_DONE without a ring")
            self.ring.release(msg[2])
        elif kind == _CLOSE:
            scope = self.scopes.get(msg[1])
            if scope is not None:
                scope.on_close(msg[2])
        elif kind == _PING:
            self.link.send(m.pong(msg[2]))
        elif kind == _PONG:
            pass
        elif kind == _DRAIN:
            self._worker.request_stop()
        elif kind == _WELCOME:
            self._welcome(msg)
        elif kind == _REJECT:
            self.reject_reason = msg[2]
            logger.error("pagi-front rejected this worker: %s", msg[2])
            self.link.abort()
        elif kind >= _FIRST_CHANNEL_KIND:  # GROUP_DELIVER, CHANNEL_DELIVER
            self._worker.channels.on_message(msg)

    def link_lost(self, exc: BaseException | None) -> None:
        if self.ring is not None:
            self.ring.close()
            self.ring = None
        if self.channel_sender is not None:
            self._worker.channels.detach()
        scopes, self.scopes = self.scopes, {}
        for scope in scopes.values():
            scope.on_close(reasons.SERVER_SHUTDOWN)
        if not self.welcomed.done():
            self.welcomed.set_result(False)
        if not self.closed.done():
            self.closed.set_result(None)

    # --- handshake and scopes ----------------------------------------------------

    def _welcome(self, msg: list[Any]) -> None:
        if self._ready:
            raise LinkError("WELCOME received twice")
        version, info = msg[2], msg[3]
        if version != PROTOCOL_VERSION:
            raise LinkError(
                f"WELCOME for protocol version {version}; this worker speaks {PROTOCOL_VERSION}"
            )
        window = info.get("window")
        if type(window) is not int or window < 0:
            raise LinkError(f"WELCOME: 'window' must be an int >= 0, got {window!r:.40}")
        max_frame = info.get("max_frame_size", DEFAULT_MAX_FRAME_SIZE)
        if type(max_frame) is not int or max_frame <= _BODY_FRAME_OVERHEAD * 2:
            raise LinkError(f"WELCOME: invalid 'max_frame_size' {max_frame!r:.40}")
        for key in ("ws_max_size", "ws_max_queue"):
            value = info.get(key)
            setattr(self, key, value if type(value) is int and value > 0 else None)
        worker_id = info.get("worker_id")
        self.worker_id = worker_id if type(worker_id) is int else None
        self.response_window = window
        self.max_frame_size = max_frame
        self.max_body_piece = max_frame - _BODY_FRAME_OVERHEAD
        self._ready = True
        self._open_ring(info.get("body_ring"))
        hub = self._worker.channels
        prefix = read_channels_welcome(info, self.worker_id, hub)
        if prefix is not None:
            hub.attach(self.link, prefix, max_frame)
            self.channel_sender = Sender(hub)
        if not self.welcomed.done():
            self.welcomed.set_result(True)

    def _open_ring(self, size: object) -> None:
        """Share a body ring of ``size`` bytes with the front, if it offers one
        (docs/worker-protocol.md); without it every body travels inline."""
        if type(size) is not int or size <= 0:
            return
        try:
            ring = BodyRing(size)
        except OSError as exc:
            logger.warning("no body ring (large bodies go inline): %s", exc.strerror or exc)
            return
        self.ring = ring
        self.link.send_with_fd(m.ring(size), ring.take_descriptor())

    def _open(self, msg: list[Any]) -> None:
        sid: int = msg[1]
        if sid <= self._last_sid:
            raise LinkError(f"OPEN: scope id {sid} is not above the last one ({self._last_sid})")
        self._last_sid = sid
        scope: ScopeBase
        if msg[2] == "http":
            scope = HTTPScope(self, msg)
        elif msg[2] == "websocket":
            scope = WebSocketScope(self, msg)
        elif msg[2] == "sse":
            mode = self._worker.config.sse_scope if self.interface.sse_scopes else "off"
            scope = open_sse_scope(self, msg, mode)
        else:
            # reserved scope types: decline without running the app
            self.link.send(m.end(sid, 1, False, f"scope type {msg[2]!r} is not supported"))
            return
        self.scopes[sid] = scope
        self._worker.start_scope(scope)

    def scope_ended(self, scope: ScopeBase) -> None:
        """The scope's app finished and END was queued: forget its id."""
        if self.scopes.get(scope.sid) is scope:
            del self.scopes[scope.sid]
        hub = self._worker.channels
        if hub.by_scope and not self.link.closed:
            # (after link_lost the hub closed this link's scope channels; the
            # ids may already name scopes of the next link)
            hub.scope_ended(scope.sid)
        self._worker.scope_done(scope)

    def scope_channels(self, sid: int, scope_type: str, extras: dict[Any, Any]) -> Sender | None:
        """The ``pagi.channels`` object of a new websocket or sse scope (None:
        channels are off; http scopes share ``channel_sender``), re-joining
        the groups a moved connection had (``extras`` ``channels.groups``, set
        by the front when a connection resumes)."""
        if self.channel_sender is None:
            return None
        restore = None
        if extras:
            moved = extras.get("channels")
            if type(moved) is dict and type(moved.get("groups")) is list:
                restore = moved["groups"]
        return ScopeChannels(self._worker.channels, sid, restore)
