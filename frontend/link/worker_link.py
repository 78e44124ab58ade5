"""The front's end of one worker link: a connected, greeted ``pagi-worker``.

A :class:`WorkerLink` owns one accepted UNIX stream socket (the socket I/O is
its base, :class:`~.io.LinkIO`) and the scopes opened on it. It decodes
the worker's messages, checks each scope's response events
(:class:`~.scope.LinkScope`, :class:`~.ws_scope.WSLinkScope`) and calls the
handler of each scope (:mod:`.handlers`); it implements
:class:`~.handle.LinkHandle`, all a stream knows of it. Everything runs as
loop callbacks: no task per link or per scope.

Invariants:

* The first message must be HELLO, within ``config.handshake_timeout``; the
  link joins the pool only after WELCOME has been queued
  (:mod:`.handshake` judges the HELLO).
* Scope ids are assigned here, increasing from 1, never reused. A message for
  an id never assigned is a violation; one for an id already forgotten is
  ignored (it crossed a CLOSE on the wire).
* Per scope the worker's events follow ``START (BODY* more=True)
  (BODY more=False | FILE) [TRAILERS if announced]``, and the response body
  bytes never exceed the window (WELCOME ``window`` plus every :meth:`grant`).
  Anything else drops the whole worker.
* Received descriptors wait in a FIFO; each decoded HTTP_RESPONSE_FILE (and
  the one RING) takes the oldest. A descriptor nobody takes over is closed,
  so none leaks; the ring's is closed with the link.
* After :meth:`close_scope` no handler method is called for that scope; the id
  is kept (and counted in ``open_scopes``) until the worker's END.
* When the link dies, every scope still attached gets ``on_worker_lost`` once,
  then the link forgets them all. No handler method is called after that.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pagi.protocol import Event, Kind
from pagi.protocol import messages as m
from pagi.protocol.fields import (
    CREDIT_BYTES,
    END_DETAIL,
    END_OUTCOME,
    END_STARTED,
    EVENT_CODE,
    HELLO_INFO,
    HELLO_VERSION,
    KIND,
    RING_SIZE,
    SCOPE_ID,
    STATS_INFO,
    TOKEN,
)
from pagi.protocol.kinds import ABORT as _ABORT
from pagi.protocol.kinds import CLOSE as _CLOSE
from pagi.protocol.kinds import CREDIT as _CREDIT
from pagi.protocol.kinds import DRAIN as _DRAIN
from pagi.protocol.kinds import END as _END
from pagi.protocol.kinds import EVENT as _EVENT
from pagi.protocol.kinds import HELLO as _HELLO
from pagi.protocol.kinds import HTTP_REQUEST as _REQUEST
from pagi.protocol.kinds import HTTP_RESPONSE_BODY as _BODY
from pagi.protocol.kinds import HTTP_RESPONSE_FILE as _FILE
from pagi.protocol.kinds import HTTP_RESPONSE_RING as _RING_BODY
from pagi.protocol.kinds import OPEN as _OPEN
from pagi.protocol.kinds import PING as _PING
from pagi.protocol.kinds import PONG as _PONG
from pagi.protocol.kinds import RING as _RING
from pagi.protocol.kinds import STATS as _STATS
from pagi.protocol.kinds import WS_DISCONNECT as _WS_DISCONNECT
from pagi.protocol.kinds import WS_MOVE as _WS_MOVE
from pagi.protocol.kinds import WS_RECEIVE as _WS_RECEIVE
from pagi.protocol.kinds import WS_RETURN_CREDIT as _WS_RETURN_CREDIT

from ..config import FrontConfig
from .body_ring import RingReader
from .handle import OpenFields
from .handshake import read_hello, welcome
from .io import LinkIO, LinkViolation
from .scope import LinkScope
from .ws_scope import WSLinkScope

if TYPE_CHECKING:
    from .handlers import HTTPScopeHandler, WSScopeHandler
    from .pool import WorkerPool

__all__ = ["WorkerLink"]

logger = logging.getLogger("pagi.front")

#: Scope messages other than EVENT, from the worker.
_SCOPE_KINDS = frozenset((_END, _CREDIT, _ABORT))


class WorkerLink(LinkIO):
    """One connected worker. Created on accept; starts reading at once."""

    __slots__ = (
        "_handshake_timer",
        "_last_sid",
        "_on_closed",
        "_pool",
        "_scopes",
        "app",
        "capacity",
        "draining",
        "interface",
        "joined_at",
        "last_pong",
        "open_scopes",
        "pid",
        "recycle_after",
        "request_window",
        "ring",
        "stats",
        "welcomed",
        "worker_id",
    )

    def __init__(
        self,
        sock: socket.socket,
        worker_id: int,
        config: FrontConfig,
        pool: WorkerPool,
        on_closed: Callable[[WorkerLink], None] | None = None,
    ) -> None:
        self._pool = pool
        self._on_closed = on_closed
        self._scopes: dict[int, LinkScope | WSLinkScope] = {}
        self._last_sid = 0
        self._handshake_timer: asyncio.TimerHandle | None = None
        self.worker_id = worker_id
        self.pid: int | None = None
        self.app = ""
        self.interface = ""
        self.capacity = 0
        self.request_window = 0
        self.open_scopes = 0
        self.welcomed = False
        self.draining = False
        self.joined_at = 0.0  # loop time of WELCOME
        self.last_pong = 0.0  # loop time of the last PONG (WELCOME until the first)
        self.recycle_after = 0  # scopes after which to recycle (0: never; WorkerHealth sets it)
        self.stats: dict[Any, Any] = {}
        self.ring: RingReader | None = None  # the worker's body ring, once announced
        super().__init__(sock, config, f"#{worker_id}")  # the name until HELLO names it
        self._handshake_timer = self._loop.call_later(
            config.handshake_timeout, self._handshake_expired
        )

    def __repr__(self) -> str:
        return f"<WorkerLink {self.name!r} id={self.worker_id} open={self.open_scopes}>"

    @property
    def scopes_opened(self) -> int:
        """Scopes routed to this worker so far (ids are assigned from 1, never reused)."""
        return self._last_sid

    @property
    def response_credit(self) -> int:
        """Response bytes the worker may still send, summed over its open scopes."""
        return sum(scope.window for scope in self._scopes.values())

    # --- the HTTP layer's side ---------------------------------------------

    def open_http(self, handler: HTTPScopeHandler, fields: OpenFields) -> int:
        """Queue OPEN for a new ``http`` or ``sse`` scope and return its id.

        On a link that has already died the handler gets ``on_worker_lost``
        from the next loop iteration (never re-entrantly). Header pairs encode
        as msgpack arrays, tuples or lists alike.
        """
        return self._open(LinkScope(handler, self._config.response_window), fields)

    def open_websocket(self, handler: WSScopeHandler, fields: OpenFields) -> int:
        """Queue OPEN for a new ``websocket`` scope and return its id (as :meth:`open_http`)."""
        return self._open(WSLinkScope(handler, self._config.response_window), fields)

    def _open(self, scope: LinkScope | WSLinkScope, fields: OpenFields) -> int:
        self._last_sid = sid = self._last_sid + 1
        if self.closed:
            assert scope.handler is not None
            self._loop.call_soon(scope.handler.on_worker_lost)
            return sid
        self._scopes[sid] = scope
        self.open_scopes += 1
        self._send([_OPEN, sid, *fields])
        return sid

    def send_request_body(self, scope_id: int, body: bytes, more: bool) -> None:
        """Queue a request body chunk (the caller keeps within the request window)."""
        self._send_attached(scope_id, [_EVENT, scope_id, _REQUEST, body, more])

    def grant(self, scope_id: int, nbytes: int) -> None:
        """Give the worker ``nbytes`` more response window on a scope."""
        scope = self._scopes.get(scope_id)
        if scope is not None and scope.handler is not None and nbytes > 0:
            scope.window += nbytes
            self._send_credit(scope_id, nbytes)

    def send_ws_receive(self, scope_id: int, data: str | bytes, more: bool) -> None:
        """Queue a WS_RECEIVE piece (the caller keeps within the request window)."""
        self._send_attached(scope_id, [_EVENT, scope_id, _WS_RECEIVE, data, more])

    def ws_return_credit(self, scope_id: int) -> None:
        """Ask the worker to credit back at once whatever the app has taken
        (it otherwise returns credit a quarter window at a time)."""
        self._send_attached(scope_id, [_EVENT, scope_id, _WS_RETURN_CREDIT])

    def ws_disconnect(self, scope_id: int, code: int, reason: str) -> None:
        """Tell the worker a websocket scope's connection is over (its CLOSE);
        detach the handler, as :meth:`close_scope` does."""
        scope = self._scopes.get(scope_id)
        if scope is not None and scope.handler is not None:
            scope.handler = None
            self._send([_EVENT, scope_id, _WS_DISCONNECT, code, reason])

    def ws_move(self, scope_id: int) -> None:
        """Ask the worker to hand a websocket scope over (WS_MOVE); its events
        and END still come to the handler."""
        self._send_attached(scope_id, [_EVENT, scope_id, _WS_MOVE])

    def _send_attached(self, scope_id: int, msg: list[Any]) -> None:
        """Queue ``msg`` if the scope is open and its handler still attached."""
        scope = self._scopes.get(scope_id)
        if scope is not None and scope.handler is not None:
            self._send(msg)

    def close_scope(self, scope_id: int, reason: str) -> None:
        """Tell the worker the client side ended; detach the handler."""
        scope = self._scopes.get(scope_id)
        if scope is not None and scope.handler is not None:
            scope.handler = None
            self._send([_CLOSE, scope_id, reason])

    def close(self, reason: str = "front shutting down") -> None:
        """Close the link from our side (best-effort flush of queued messages first)."""
        self._finish(logging.INFO, f"closing link to worker {self.name}: {reason}")

    def ping(self) -> None:
        """Send a heartbeat; the worker's loop answers PONG (``last_pong``)."""
        if not self.closed and self.welcomed:
            self._send([_PING, 0, self._last_sid])

    def drain(self, why: str) -> None:
        """Route nothing new here and ask the worker to stop (reload, scale down,
        ``pagi-ctl drain``); the worker answers DRAIN and exits once closed."""
        if self.closed:
            return
        if not self.draining:
            self._send(m.drain())
        self._start_draining(f"draining ({why})")

    def _start_draining(self, what: str) -> None:
        if not self.draining:
            self.draining = True
            logger.info("worker %s %s", self.name, what)
            # long-lived scopes move to another worker (docs/resume.md)
            for scope in list(self._scopes.values()):
                if scope.handler is not None:
                    scope.handler.on_worker_draining()
        if not self.open_scopes:
            self._close_drained()

    def _close_drained(self) -> None:
        """Every scope routed here has ended and none will be routed again: close
        the link. Closing is the front's move, so no OPEN can cross it."""
        self._finish(logging.INFO, f"worker {self.name} drained")

    # --- dispatch (called by LinkIO for each decoded message) -------------------

    def _dispatch(self, msg: list[Any]) -> None:
        kind = msg[KIND]
        if kind == _EVENT:
            if not self.welcomed:
                raise LinkViolation("EVENT before HELLO")
            sid = msg[SCOPE_ID]
            code = msg[EVENT_CODE]
            fd = -1
            if code == _FILE:
                if not self._fds:
                    raise LinkViolation(
                        f"scope {sid}: HTTP_RESPONSE_FILE without a file descriptor"
                    )
                fd = self._fds.popleft()
            elif code == _RING_BODY:  # read now (the worker reuses the space), then a BODY
                if self.ring is None:
                    raise LinkViolation(f"scope {sid}: HTTP_RESPONSE_RING without a RING")
                msg, code = self.ring.as_body(msg), _BODY
                self._ring_piece_done()
            scope = self._scopes.get(sid)
            if scope is None:
                if fd >= 0:
                    os.close(fd)
                self._check_known(sid, Event(code).name)
                return
            scope.on_event(sid, code, msg, fd)
        elif kind in _SCOPE_KINDS:
            if not self.welcomed:
                raise LinkViolation(f"{Kind(kind).name} before HELLO")
            sid = msg[SCOPE_ID]
            scope = self._scopes.pop(sid, None) if kind == _END else self._scopes.get(sid)
            if scope is None:
                self._check_known(sid, Kind(kind).name)
                return
            handler = scope.handler
            if kind == _END:
                self.open_scopes -= 1
                self._pool.capacity_changed()
                if handler is not None:
                    handler.on_end(msg[END_OUTCOME], msg[END_STARTED], msg[END_DETAIL])
                if self.draining and not self.open_scopes:
                    self._close_drained()
            elif handler is None:
                pass  # detached (close_scope / ws_disconnect): only END still matters
            elif kind == _CREDIT:
                handler.on_request_credit(msg[CREDIT_BYTES])
            else:
                handler.on_abort(msg[2])
        elif kind == _HELLO:
            if self.welcomed:
                raise LinkViolation("second HELLO")
            self._on_hello(msg[HELLO_VERSION], msg[HELLO_INFO])
        elif not self.welcomed:
            raise LinkViolation(f"first message was {Kind(kind).name}, not HELLO")
        elif kind == _PING:
            self._send([_PONG, 0, msg[TOKEN]])
        elif kind == _DRAIN:
            self._start_draining("draining")
        elif kind == _STATS:
            self.stats = msg[STATS_INFO]
        elif kind == _PONG:
            self.last_pong = self._loop.time()
        elif kind == _RING:
            if self.ring is not None or not self._fds:
                raise LinkViolation("RING twice, or without a file descriptor")
            self.ring = RingReader(self._fds.popleft(), msg[RING_SIZE])
        else:  # JOIN, LEAVE, GROUP_SEND, CHANNEL_SEND (pagi.protocol.channel_messages)
            channels = self._pool.channels
            if channels is None:
                raise LinkViolation(f"{Kind(kind).name}, but this front offers no channels")
            channels.on_message(self, msg)

    def _check_known(self, sid: int, what: str) -> None:
        if sid > self._last_sid:
            raise LinkViolation(f"{what} for scope {sid}, which was never opened")

    # --- handshake ----------------------------------------------------------------

    def _on_hello(self, version: int, info: dict[Any, Any]) -> None:
        hello = read_hello(version, info, f"#{self.worker_id}")
        self.name = hello.name
        self.pid = hello.pid
        if hello.problem is not None:
            self._reject(hello.problem)
            return
        self.app, self.interface, self.capacity = hello.app, hello.interface, hello.capacity
        self.request_window = hello.window
        self.welcomed = True
        self.joined_at = self.last_pong = self._loop.time()
        self._stop_handshake_timer()
        self._send(welcome(self._config, self.worker_id))
        logger.info("worker %s pid %s joined", self.name, self.pid)
        self._pool.add(self)

    def _reject(self, reason: str) -> None:
        self._send(m.reject(reason))
        self._finish(logging.WARNING, f"rejected worker {self.name} (pid {self.pid}): {reason}")

    def _stop_handshake_timer(self) -> None:
        if self._handshake_timer is not None:
            self._handshake_timer.cancel()
            self._handshake_timer = None

    def _handshake_expired(self) -> None:
        self._handshake_timer = None
        if not self.welcomed and not self.closed:
            self._drop(f"no HELLO within {self._config.handshake_timeout:g} s")

    # --- ending (called by LinkIO) ------------------------------------------------

    def _left(self) -> None:
        if self.welcomed:
            self._teardown(logging.INFO, f"worker {self.name} left")
        else:
            self._teardown(logging.INFO, f"link {self.name} closed before HELLO")

    def _released(self) -> None:
        if self.ring is not None:
            self.ring.close()
        self._stop_handshake_timer()
        self._pool.remove(self)
        scopes = list(self._scopes.values())
        self._scopes.clear()
        self.open_scopes = 0
        for scope in scopes:
            if scope.handler is not None:
                try:
                    scope.handler.on_worker_lost()
                except Exception:
                    logger.exception("error in on_worker_lost (worker %s)", self.name)
        if self._on_closed is not None:
            self._on_closed(self)
