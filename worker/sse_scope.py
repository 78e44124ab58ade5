"""One ``sse`` scope on the worker, and how a worker learns whether its app speaks SSE.

The front opens ``type: "sse"`` for a request whose ``Accept`` lists
``text/event-stream``. On the link an SSE stream is an ordinary response
(``HTTP_RESPONSE_START`` and ``HTTP_RESPONSE_BODY``), so :class:`SSEScope` is an
:class:`~.http_scope.HTTPScope` with a different app-facing surface:

* ``receive()`` gives ``sse.request`` ``{body, more}`` (a GET: one empty event),
  with the same request-body credit as http, then ``sse.disconnect``
  ``{reason}`` (the standard reason, or ``None`` when the stream ended cleanly
  while the client was still there).
* ``send()`` takes ``sse.start`` / ``sse.send`` / ``sse.comment`` /
  ``sse.keepalive`` / ``sse.close`` (a *stream*), or the decline pair
  ``http.response.start`` / ``.body`` (an ordinary response, PAGI Www 0.6). The
  first of ``sse.start`` and ``http.response.start`` wins: the other then raises,
  as does a stream event after ``sse.close`` (a second ``sse.close`` is a
  no-op). Events are validated and formatted by :mod:`.sse_events` before
  their state is checked, so nothing invalid reaches the wire.

Stream writes are **whole events, in order**. Each ``sse.send``/``sse.comment``
is one body message; when the response window cannot hold it, ``send()``
waits until it can (or until the window is as full as it can get, for an
event larger than the window, which then goes in pieces), and later sends
queue behind it, so concurrent senders never interleave bytes of two events.
A send cancelled before its first byte was queued leaves no trace; one
cancelled half-way through an oversized event leaves the stream unusable, and
later stream sends raise. ``sse.close`` is the only clean end (PAGI Www 0.6):
an app that returns after ``sse.start`` without it leaves the response
incomplete (no final body; the front cuts the connection, ``pagi.connection``
ends with ``server_error``). The interface's ``sse_close_required`` says so;
it is kept as a flag for an interface that would end such streams instead.

**Apps that do not speak SSE** (``--sse-scope``, per worker process):

* ``on``: every sse request is an ``sse`` scope; an app error is an app error.
* ``off``: every sse request is served as an ordinary ``http`` scope (the
  decision is the worker's: the front does not know the app).
* ``auto`` (default): an ``sse`` scope, but if the app *declines* it — raises,
  or returns, before it sent anything, before it sent any ``sse.*`` event at
  all (even an invalid one), and before it was handed a byte of request body
  — the same request is replayed to it as an ``http`` scope (a fresh scope
  dict; the request body is still all there) and the worker remembers: every
  later sse request in this process is an ``http`` scope from the start (one
  INFO line when that is decided). Conversely, the first ``sse.*`` event an
  app sends proves it speaks SSE, and no sse scope is replayed after that.
  This is how ASGI frameworks (Starlette, FastAPI, Django) behave: they raise
  on a scope type they do not know before doing anything.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from pagi.protocol import encode
from pagi.protocol.kinds import EVENT as _EVENT
from pagi.protocol.kinds import HTTP_RESPONSE_BODY as _BODY
from pagi.protocol.kinds import HTTP_RESPONSE_START as _START
from pagi.protocol.kinds import SSE_KEEPALIVE as _KEEPALIVE
from pagi.protocol.kinds import SSE_NO_RESUME as _NO_RESUME

from . import http_events as events
from .event_order import BODY, DECLINED, DONE, INIT, NOTHING, STREAM, sse_order_error
from .http_scope import HTTPScope
from .loader import exc_summary
from .resume import refuses_resume
from .scope import build_http_scope
from .sse_events import (
    CLOSE,
    COMMENT,
    DECLINE_BODY,
    DECLINE_START,
    KEEPALIVE,
    SEND,
    SSE_TYPES,
    START,
    check_decline_body,
    check_decline_start,
    check_keepalive,
    check_start,
    encode_comment,
    encode_send,
    unknown_type,
)
from .sse_verdict import HTTP_ONLY, SPEAKS_SSE, UNKNOWN, app_verdict, set_app_verdict

if TYPE_CHECKING:
    from .scope_session import ScopeSession

logger = logging.getLogger("pagi.worker")


def open_sse_scope(session: ScopeSession, msg: list[Any], mode: str) -> HTTPScope:
    """The scope object for an OPEN of type ``"sse"``, per ``--sse-scope`` ``mode``."""
    verdict = app_verdict(session.app)
    if mode == "off" or (mode == "auto" and verdict == HTTP_ONLY):
        msg[2] = "http"
        return HTTPScope(session, msg)
    return SSEScope(session, msg, replay=mode == "auto" and verdict == UNKNOWN)


class SSEScope(HTTPScope):
    __slots__ = (
        "_broken",
        "_closing",
        "_consumed",
        "_http",
        "_kind",
        "_replay",
        "_spoken",
        "_turns",
        "_writing",
    )

    def __init__(self, session: ScopeSession, msg: list[Any], replay: bool = False) -> None:
        super().__init__(session, msg)
        self._replay = replay  # may still be replayed as http (auto mode, verdict unknown)
        self._http = False  # replayed: behave exactly as an HTTPScope from now on
        self._kind = NOTHING
        self._spoken = False  # the app sent an sse.* event (valid or not)
        self._consumed = False  # request body bytes were handed to the app
        self._closing = False  # sse.close (or the app's return) claimed the end
        self._broken = False  # an event was cut by a cancellation half-way
        self._writing = False  # a stream write is waiting for window
        self._turns: deque[asyncio.Future[None]] | None = None

    # --- running the app ---------------------------------------------------------

    async def run(self) -> None:
        """Run the app on this scope (replaying it as http if it declines), then
        queue END. Never raises (but propagates ``SystemExit``/``KeyboardInterrupt``)."""
        outcome = 0
        detail = ""
        try:
            await self.session.app(self.scope, self.receive, self.send)
        except asyncio.CancelledError:
            outcome = 1
            detail = self._cancelled()
        except Exception as exc:
            if self._can_replay():
                await self._replay_as_http(f"it raised {exc_summary(exc)[:200]}")
                return
            outcome = 1
            detail = self._crashed(exc)
        else:
            if self._kind == NOTHING:
                if self._can_replay():
                    await self._replay_as_http("it returned without responding")
                    return
            elif (
                self._kind == STREAM
                and self._state != DONE
                and not self.gone
                and not self._broken
                and not self.session.interface.sse_close_required
            ):
                try:
                    await self._end_stream()  # the app left the stream open
                except asyncio.CancelledError:
                    outcome = 1
                    detail = self._cancel_detail()
        self._finish(outcome, detail)

    def _log_unfinished(self) -> None:
        # PAGI 0.6: only sse.close ends a stream cleanly; one the app left open
        # is cut (no end marker). A stream cut short by a cancelled write is
        # the cancellation's story.
        if self._http or self._kind != STREAM:
            HTTPScope._log_unfinished(self)
        elif not self.gone and not self._broken:
            logger.error(
                "the app returned without sse.close for %s: the stream is cut off (no end marker)",
                self._describe(),
            )

    def _can_replay(self) -> bool:
        return (
            self._replay
            and not self._spoken
            and not self._consumed
            and self._state == INIT
            and not self.session.stopping
            and app_verdict(self.session.app) != SPEAKS_SSE
        )

    async def _replay_as_http(self, why: str) -> None:
        session = self.session
        if app_verdict(session.app) != HTTP_ONLY:
            set_app_verdict(session.app, HTTP_ONLY)
            logger.info(
                "the app does not handle 'sse' scopes (%s for %s); this worker serves "
                "text/event-stream requests to it as 'http' scopes from now on "
                "(--sse-scope on|off decides explicitly)",
                why,
                self._describe(),
            )
        self._http = True
        msg = list(self._open)
        msg[2] = "http"
        self.scope = build_http_scope(msg, session, self.connection, self.transport)
        # no body byte was handed over, so at most the empty final event was: again
        self._delivered_final = False
        await HTTPScope.run(self)

    def _spoke(self) -> None:
        self._spoken = True
        if self._replay:
            self._replay = False
            if app_verdict(self.session.app) == UNKNOWN:
                set_app_verdict(self.session.app, SPEAKS_SSE)

    # --- receive -------------------------------------------------------------------

    async def receive(self) -> dict[str, Any]:
        message = await HTTPScope.receive(self)
        if self._http:
            return message
        if message["type"] == "http.request":
            body: bytes = message["body"]
            if body:
                self._consumed = True
            return {"type": "sse.request", "body": body, "more": message["more"]}
        return {"type": "sse.disconnect", "reason": self.connection.disconnect_reason()}

    # --- send ------------------------------------------------------------------------

    async def send(self, event: MutableMapping[str, Any]) -> None:
        if self._http:
            await HTTPScope.send(self, event)
            return
        etype = events.event_type(event)
        if not self._spoken and etype in SSE_TYPES:
            self._spoke()  # any sse.* event, even an invalid one
        is_send = etype == SEND
        if is_send or etype == COMMENT:
            data = encode_send(event) if is_send else encode_comment(event)
            if self.gone:
                return
            if self._kind != STREAM or self._closing or self._broken:
                raise sse_order_error(etype, self._kind, self._state, self._broken)
            await self._write(data, True)
        elif etype == START:
            status, headers = check_start(event)
            refuse = refuses_resume(etype, event)
            if self.gone:
                return
            if self._kind != NOTHING:
                raise sse_order_error(etype, self._kind, self._state, self._broken)
            self._send_head(etype, status, headers)
            self._kind = STREAM
            if refuse:  # docs/resume.md
                self.session.link.send([_EVENT, self.sid, _NO_RESUME])
        elif etype == KEEPALIVE:
            interval, comment = check_keepalive(event)
            if self.gone:
                return
            if self._kind != STREAM or self._closing or self._broken:
                raise sse_order_error(etype, self._kind, self._state, self._broken)
            self.session.link.send([_EVENT, self.sid, _KEEPALIVE, interval, comment])
        elif etype == CLOSE:
            if self.gone:
                return
            if self._kind != STREAM or self._broken:
                raise sse_order_error(etype, self._kind, self._state, self._broken)
            if not self._closing:
                await self._end_stream()
        elif etype == DECLINE_START:
            status, headers = check_decline_start(event)
            if self.gone:
                return
            if self._kind != NOTHING:
                raise sse_order_error(etype, self._kind, self._state, self._broken)
            self._send_head(etype, status, headers)
            self._kind = DECLINED
        elif etype == DECLINE_BODY:
            body, more = check_decline_body(event)
            if self.gone:
                return
            if self._kind != DECLINED or self._state != BODY:
                raise sse_order_error(etype, self._kind, self._state, self._broken)
            await self._send_body(body, more)
        else:
            raise unknown_type(etype)

    def _send_head(self, etype: str, status: int, headers: list[list[bytes]]) -> None:
        frame = encode([_EVENT, self.sid, _START, status, headers, False])
        self._check_frame_size(etype, frame)
        self.session.link.send_frame(frame)
        self._state = BODY
        self.connection._set_started()

    async def _end_stream(self) -> None:
        """Claim the end of the stream and queue the final empty body behind any
        write still waiting."""
        self._closing = True
        await self._write(b"", False)

    # --- ordered, whole-event writes -------------------------------------------------

    async def _write(self, data: bytes, more: bool) -> None:
        n = len(data)
        window = self.window
        if not self._writing and n <= window.available and n <= self.session.max_body_piece:
            # the common case: it fits now, and nothing is queued before it
            window.available -= n
            self.session.link.send([_EVENT, self.sid, _BODY, data, more])
            if n:
                self.transport._sent(n)
            if not more:
                self._complete()
            return
        await self._acquire()
        try:
            await self._write_waiting(data, more)
        finally:
            self._release()

    async def _write_waiting(self, data: bytes, more: bool) -> None:
        window = self.window
        n = len(data)
        # an event goes whole once the window can hold it (or is as open as it
        # gets, for an event larger than the front's window)
        await window.wait(min(n, self.session.response_window))
        if self.gone:
            return
        if n <= window.available and n <= self.session.max_body_piece:
            window.available -= n
            self.session.link.send([_EVENT, self.sid, _BODY, data, more])
            if n:
                self.transport._sent(n)
        else:
            try:
                if not await self._send_pieces(data, more):
                    return
            except asyncio.CancelledError:
                self._broken = True  # part of the event may be out: the stream is cut
                raise
        if not more:
            self._complete()

    async def _acquire(self) -> None:
        if not self._writing and not self._turns:
            self._writing = True
            return
        turn: asyncio.Future[None] = self.session.loop.create_future()
        if self._turns is None:
            self._turns = deque()
        self._turns.append(turn)
        try:
            await turn  # _release hands the turn over with _writing still True
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # the turn was ours already: pass it on
            elif self._turns is not None and turn in self._turns:
                self._turns.remove(turn)
            raise

    def _release(self) -> None:
        turns = self._turns
        while turns:
            turn = turns.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._writing = False
