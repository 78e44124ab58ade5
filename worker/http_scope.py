"""One http scope on the worker: the app's ``receive``/``send`` and their state.

An :class:`HTTPScope` is a :class:`~.scope_base.ScopeBase` (which runs the
app and queues END): it is fed by the session (request body, CREDIT, CLOSE)
and writes through the session's link; it never touches a socket itself.

Request side (front -> app):

* ``_more`` is True while the front may still send body; ``_recv_allowed`` is
  how many body bytes it may send before exceeding the window we granted
  (HELLO window, or 0 with ``body_mode`` 2 until the app first calls
  ``receive()``, which grants the window and thereby asks for
  ``100 Continue``). Receiving more than granted, or any body after the end,
  is a protocol violation that drops the link.
* each ``receive()`` hands over everything buffered as one ``http.request``
  (carrying both ``more`` and ``more_body``) and grants the front that many
  bytes again with CREDIT, unless the body is complete. Once the final chunk is
  delivered, ``receive()`` waits until the client side is gone or the response
  is complete and then returns ``http.disconnect`` (every time).

Response side (app -> front): ``_state`` moves INIT -> BODY -> [FINAL] ->
[TRAILERS] -> DONE and never back (FINAL while a final body waits for window,
TRAILERS when they were announced). Every ``send()`` is validated
(``http_events.py``; the states and the out-of-order errors are in
``event_order.py``) before its state is checked, and nothing invalid reaches the
wire. Body bytes are limited by the response window
(:class:`~pagi.worker.flow.SendWindow`): a body is split into pieces that fit,
and ``send()`` waits for CREDIT in between. "Response complete" (for
``receive()`` and ``pagi.connection``) means DONE: the last frame is queued.

Once the client side is gone (CLOSE, the link dropped, or the app's own
``pagi.connection.abort()``) every later ``send`` is validated and then
ignored (PAGI) or raises :class:`~.events.ClientDisconnected`, an ``OSError``
(ASGI 2.4), and pending waits resolve; the app still runs to its end and END
is still sent (if the link is still up).

Body rules (PAGI Www 0.6): an ``http.response.body`` carries at most one of
``body``, ``file`` and ``fh``; a file body (``file``, ``fh``,
``http.response.pathsend``) after inline body bytes fails the send; a file
send that fails (the file cannot be opened, the range is beyond its end)
leaves the response state as it was, so the app may still answer otherwise;
``trailers=True`` with a ``content-length`` on HTTP/1.x fails the
``http.response.start`` (trailers need chunked framing there).
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from pagi.protocol import LinkError, encode, reasons
from pagi.protocol import messages as m
from pagi.protocol.codec import ZERO_COPY_MIN, encode_with_data, extend_frame
from pagi.protocol.kinds import CREDIT as _CREDIT
from pagi.protocol.kinds import EVENT as _EVENT
from pagi.protocol.kinds import HTTP_RESPONSE_BODY as _BODY
from pagi.protocol.kinds import HTTP_RESPONSE_FILE as _FILE
from pagi.protocol.kinds import HTTP_RESPONSE_START as _START
from pagi.protocol.kinds import HTTP_RESPONSE_TRAILERS as _TRAILERS

from . import http_events as events
from .backlog import TransportState
from .body_ring import RING_MIN
from .connection_state import ConnectionState
from .event_order import BODY, DONE, FINAL, INIT, TRAILERS, http_order_error
from .file_open import open_file
from .flow import SendWindow
from .http_events import InvalidEvent, UnexpectedEvent, client_disconnected
from .interface import PAGI
from .ring_pieces import RingPieces
from .scope import build_http_scope
from .scope_base import ScopeBase

if TYPE_CHECKING:
    from .scope_session import ScopeSession

logger = logging.getLogger("pagi.worker")


_BODY_MODE_NONE = 0
_BODY_MODE_EXPECT = 2


class HTTPScope(ScopeBase):
    __slots__ = (
        "_asked",
        "_delivered_final",
        "_more",
        "_recv_chunks",
        "_ring",
        "_sent_inline",
        "_start_frame",
        "_state",
        "_trailers",
        "window",
    )

    def __init__(self, session: ScopeSession, msg: list[Any]) -> None:
        self.session = session
        self.sid = msg[1]
        self._open = msg
        self.connection = ConnectionState(session.loop, self._app_aborted)
        self.transport = TransportState()
        self.window = SendWindow(session.response_window, session.loop)
        self.scope = build_http_scope(msg, session, self.connection, self.transport)
        body_mode: int = msg[12]
        self._more = body_mode != _BODY_MODE_NONE
        self._recv_allowed = 0 if body_mode == _BODY_MODE_EXPECT else session.request_window
        self._asked = body_mode != _BODY_MODE_EXPECT  # no 100-continue to ask for
        self._delivered_final = False
        self._recv_chunks: list[bytes] | None = None
        self._recv_waiters = None
        self._state = INIT
        self._start_frame: bytes | None = None  # queued START, until a body follows
        self._trailers = False
        self._sent_inline = False  # inline body bytes went out (no file body may follow)
        self._ring: RingPieces | None = None  # made at the first piece for the body ring
        self.gone = False  # the client side is gone: sends are no-ops (or raise)

    # --- the end of the app (see ScopeBase.run) ----------------------------------------

    def _app_ended(self, outcome: int, detail: str = "") -> bool:
        state = self._state
        if state != DONE:
            if not outcome:
                self._log_unfinished()
            if not self.gone:
                # the front will answer 500 or abort: an abnormal end for the app
                self._client_gone(reasons.SERVER_ERROR, detail or None)
        if self._recv_waiters:
            self._wake_receivers()
        return state != INIT

    def _log_unfinished(self) -> None:
        """The app returned before its response was complete: say so, unless
        the client had gone (then there was nobody to answer: no app error)."""
        if self.gone:
            return
        if self._state == INIT:
            logger.error("the app returned without sending a response for %s", self._describe())
        else:
            logger.error("the app returned before completing the response for %s", self._describe())

    def _describe(self) -> str:
        method: str = self._open[4]
        return f"{method} {self._target()}"

    # --- fed by the session -------------------------------------------------------

    def on_request_body(self, body: bytes, more: bool) -> None:
        if self.gone:
            return
        if not self._more:
            raise LinkError(f"scope {self.sid}: request body after the end of the body")
        n = len(body)
        if n > self._recv_allowed:
            raise LinkError(
                f"scope {self.sid}: {n} request body bytes exceed the window "
                f"({self._recv_allowed} bytes left)"
            )
        self._recv_allowed -= n
        if n:
            if self._recv_chunks is None:
                self._recv_chunks = [body]
            else:
                self._recv_chunks.append(body)
        self._more = more
        self._wake_receivers()

    def on_credit(self, nbytes: int) -> None:
        self.window.grant(nbytes)
        self.transport._credited(nbytes)

    def on_close(self, reason: str) -> None:
        """The client side ended (CLOSE, or the link to the front dropped)."""
        if not self.gone:
            self._client_gone(reason)
            self._wake_receivers()

    def _client_gone(self, reason: str, detail: str | None = None) -> None:
        self.gone = True
        self.connection._set_disconnected(reason, detail)
        self.window.close()

    def _app_aborted(self, detail: str | None) -> None:
        """``pagi.connection.abort(detail)`` (the connection state is already
        ended): tell the front to drop the client, stop everything pending."""
        if self.gone:
            return
        self.gone = True
        self.window.close()
        self.session.link.send(m.abort(self.sid, detail or ""))
        self._wake_receivers()

    def _gone_send(self, etype: str) -> None:
        """A valid ``send()`` after the client side is gone: nothing (PAGI), or
        :class:`~.events.ClientDisconnected` (ASGI 2.4)."""
        if self.session.interface.raise_after_disconnect:
            raise client_disconnected(etype, self.connection.disconnect_reason())

    # --- receive ---------------------------------------------------------------

    async def receive(self) -> dict[str, Any]:
        while True:
            chunks = self._recv_chunks
            if chunks:
                self._recv_chunks = None
                body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                more = self._more
                if more:
                    self._grant(len(body))
                else:
                    self._delivered_final = True
                return {"type": "http.request", "body": body, "more": more, "more_body": more}
            if not self._delivered_final and not self._more:
                self._delivered_final = True
                return {"type": "http.request", "body": b"", "more": False, "more_body": False}
            if self.gone or self._state == DONE:
                return {"type": "http.disconnect"}
            if not self._asked:
                self._asked = True
                window = self.session.request_window
                self._recv_allowed += window
                self.session.link.send([_CREDIT, self.sid, window])
            await self._wait_receive()

    # --- send --------------------------------------------------------------------

    async def send(self, event: MutableMapping[str, Any]) -> None:
        etype = events.event_type(event)
        if etype == events.BODY:
            payload = events.payload_key(event)
            if payload == "file":
                path, offset, length = events.check_file(event)
                self._send_file(etype, path, offset, length)
                return
            if payload == "fh":
                fd, offset, length = events.check_fh(event)
                self._send_file(etype, None, offset, length, fd)
                return
            body, more = events.check_body(event)
            if self.gone:
                return self._gone_send(etype)
            if self._state != BODY:
                raise http_order_error(etype, self._state, self._trailers)
            await self._send_body(body, more)
        elif etype == events.START:
            status, headers, trailers = events.check_start(event)
            if self.gone:
                return self._gone_send(etype)
            if self._state != INIT:
                raise http_order_error(etype, self._state, self._trailers)
            if (
                trailers
                and self._open[3] != "2"
                and self.session.interface.name == PAGI
                and events.has_content_length(headers)
            ):
                raise InvalidEvent(
                    f"{etype}: trailers=True cannot go with a content-length header on "
                    f"HTTP/{self._open[3]}: trailers need chunked framing"
                )
            session = self.session
            frame = encode([_EVENT, self.sid, _START, status, headers, trailers])
            if len(frame) - 4 > session.max_frame_size:
                self._check_frame_size(etype, frame)  # raises
            session.link.send_frame(frame)
            self._start_frame = frame
            self._trailers = trailers
            self._state = BODY
            self.connection._set_started()
        elif etype == events.TRAILERS:
            headers = events.check_trailers(event)
            if self.gone:
                return self._gone_send(etype)
            if self._state != TRAILERS:
                raise http_order_error(etype, self._state, self._trailers)
            frame = encode([_EVENT, self.sid, _TRAILERS, headers])
            self._check_frame_size(etype, frame)
            self.session.link.send_frame(frame)
            self._complete()
        elif etype == events.PATHSEND:
            path, offset, length = events.check_file(event, events.PATHSEND, "path")
            self._send_file(etype, path, offset, length)
        else:
            raise events.unknown_type(etype)

    async def _send_body(self, body: bytes, more: bool) -> None:
        link = self.session.link
        n = len(body)
        if not more:
            # claim the end now so a concurrent send cannot slip in after it
            self._state = FINAL
        elif n == 0:
            return
        window = self.window
        start, self._start_frame = self._start_frame, None
        if n <= window.available and n <= self.session.max_body_piece:
            window.available -= n
            if n >= RING_MIN and self._ring_pieces().send(body, more):
                pass
            elif (
                start is not None
                and len(start) + n <= self.session.max_body_piece
                and link.unqueue_last(start)
            ):
                # START is still the last frame queued: send one message, START
                # carrying this first body piece (docs/worker-protocol.md)
                link.send_parts(extend_frame(start, body, more))
            elif n < ZERO_COPY_MIN:
                link.send([_EVENT, self.sid, _BODY, body, more])
            else:
                link.send_parts(encode_with_data([_EVENT, self.sid, _BODY], body, more))
            if n:
                self._sent_inline = True
                self.transport._sent(n)
        elif not await self._send_pieces(body, more):
            return
        else:
            self._sent_inline = True
        if not more:
            if self._trailers:
                self._state = TRAILERS
            else:
                self._complete()

    async def _send_pieces(self, data: bytes, more: bool) -> bool:
        """Send ``data`` (not empty) as body pieces that each fit the window and
        the link's frame limit, waiting for CREDIT in between; the last piece
        carries ``more``. False if the client side went away first (the rest is
        dropped)."""
        window = self.window
        link = self.session.link
        limit = self.session.max_body_piece
        view = memoryview(data)
        n = len(data)
        pos = 0
        while pos < n:
            if window.available <= 0:
                await window.wait()
                if self.gone:
                    return False
                continue
            take = window.take(min(n - pos, limit))
            end = pos + take
            piece = view[pos:end]
            if take < RING_MIN or not self._ring_pieces().send(piece, more or end < n):
                link.send_parts(encode_with_data([_EVENT, self.sid, _BODY], piece, more or end < n))
            self.transport._sent(take)
            pos = end
        return True

    def _ring_pieces(self) -> RingPieces:
        if self._ring is None:
            self._ring = RingPieces(self.session, self.sid)
        return self._ring

    def _send_file(
        self,
        etype: str,
        path: str | bytes | None,
        offset: int,
        length: int | None,
        app_fd: int = -1,
    ) -> None:
        """A file body from ``path``, or from the app's descriptor ``app_fd``
        (duplicated: the app keeps its own). Nothing changes if it fails."""
        if self.gone:
            return self._gone_send(etype)
        if self._state != BODY:
            raise http_order_error(etype, self._state, self._trailers)
        if self._sent_inline:
            raise UnexpectedEvent(
                f"{etype}: a file body cannot follow inline body bytes (send the whole body "
                "inline, or all of it from the file)"
            )
        fd = open_file(etype, path, offset, length, app_fd)
        self._state = TRAILERS if self._trailers else DONE
        self.session.link.send_with_fd([_EVENT, self.sid, _FILE, offset, length], fd)
        if self._state == DONE:
            self._complete()

    def _complete(self) -> None:
        self._state = DONE
        self.connection._set_complete()
        self._wake_receivers()
