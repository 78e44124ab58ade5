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
(``events.py``) before its state is checked, and nothing invalid reaches the
wire. Body bytes are limited by the response window
(:class:`~pagi.worker.flow.SendWindow`): a body is split into pieces that fit,
and ``send()`` waits for CREDIT in between. "Response complete" (for
``receive()`` and ``pagi.connection``) means DONE: the last frame is queued.

Once the client side is gone (CLOSE, or the link dropped) every later ``send``
is validated and then ignored, and pending waits resolve; the app still runs to
its end and END is still sent (if the link is still up).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from pagi.protocol import LinkError, encode, reasons
from pagi.protocol.codec import ZERO_COPY_MIN, encode_with_data, extend_frame
from pagi.protocol.kinds import CREDIT as _CREDIT
from pagi.protocol.kinds import EVENT as _EVENT
from pagi.protocol.kinds import HTTP_RESPONSE_BODY as _BODY
from pagi.protocol.kinds import HTTP_RESPONSE_FILE as _FILE
from pagi.protocol.kinds import HTTP_RESPONSE_START as _START
from pagi.protocol.kinds import HTTP_RESPONSE_TRAILERS as _TRAILERS

from . import http_events as events
from .backlog import TransportState
from .connection_state import ConnectionState
from .flow import SendWindow
from .http_events import InvalidEvent, UnexpectedEvent
from .scope import build_http_scope
from .scope_base import ScopeBase

if TYPE_CHECKING:
    from .session import Session

logger = logging.getLogger("pagi.worker")


# response states
INIT = 0  # nothing sent yet
BODY = 1  # started; body events may follow
FINAL = 2  # the final body is being sent (waiting for window)
TRAILERS = 3  # final body sent; trailers were announced and must follow
DONE = 4  # response complete

_BODY_MODE_NONE = 0
_BODY_MODE_EXPECT = 2


class HTTPScope(ScopeBase):
    __slots__ = (
        "_asked",
        "_delivered_final",
        "_more",
        "_recv_chunks",
        "_start_frame",
        "_state",
        "_trailers",
        "connection",
        "window",
    )

    def __init__(self, session: Session, msg: list[Any]) -> None:
        self.session = session
        self.sid = msg[1]
        self._open = msg
        self.connection = ConnectionState()
        self.transport = TransportState()
        self.window = SendWindow(session.response_window, session.loop)
        self.scope = build_http_scope(
            msg, session.root_path, session.state, self.connection, self.transport
        )
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
        self.gone = False  # the client side is gone: sends are no-ops

    # --- the end of the app (see ScopeBase.run) ----------------------------------------

    def _app_ended(self, outcome: int) -> bool:
        state = self._state
        if state != DONE:
            if not outcome:
                self._log_unfinished()
            if not self.gone:
                # the front will answer 500 or abort: an abnormal end for the app
                self._client_gone(reasons.SERVER_ERROR)
        if self._recv_waiters:
            self._wake_receivers()
        return state != INIT

    def _log_unfinished(self) -> None:
        """The app returned before its response was complete: say so."""
        if self._state == INIT:
            logger.error("the app returned without sending a response for %s", self._describe())
        elif not self.gone:
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

    def _client_gone(self, reason: str) -> None:
        self.gone = True
        self.connection._set_disconnected(reason)
        self.window.close()

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
            if event.get("file") is not None:
                path, offset, length = events.check_file(event)
                self._send_file(etype, path, offset, length)
                return
            body, more = events.check_body(event)
            if self.gone:
                return
            if self._state != BODY:
                raise self._state_error(etype)
            await self._send_body(body, more)
        elif etype == events.START:
            status, headers, trailers = events.check_start(event)
            if self.gone:
                return
            if self._state != INIT:
                raise self._state_error(etype)
            frame = encode([_EVENT, self.sid, _START, status, headers, trailers])
            self._check_frame_size(etype, frame)
            self.session.link.send_frame(frame)
            self._start_frame = frame
            self._trailers = trailers
            self._state = BODY
            self.connection._set_started()
        elif etype == events.TRAILERS:
            headers = events.check_trailers(event)
            if self.gone:
                return
            if self._state != TRAILERS:
                raise self._state_error(etype)
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
            if (
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
                self.transport._sent(n)
        elif not await self._send_pieces(body, more):
            return
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
            link.send_parts(encode_with_data([_EVENT, self.sid, _BODY], piece, more or end < n))
            self.transport._sent(take)
            pos = end
        return True

    def _send_file(self, etype: str, path: str | bytes, offset: int, length: int | None) -> None:
        if self.gone:
            return
        if self._state != BODY:
            raise self._state_error(etype)
        fd = _open_file(etype, path, offset, length)
        self._state = TRAILERS if self._trailers else DONE
        self.session.link.send_with_fd([_EVENT, self.sid, _FILE, offset, length], fd)
        if self._state == DONE:
            self._complete()

    def _complete(self) -> None:
        self._state = DONE
        self.connection._set_complete()
        self._wake_receivers()

    def _state_error(self, etype: str) -> UnexpectedEvent:
        state = self._state
        if state == INIT:
            return UnexpectedEvent(f"{etype}: http.response.start has not been sent")
        if etype == events.START:
            return UnexpectedEvent(f"{etype}: the response has already started")
        if etype == events.TRAILERS:
            if not self._trailers:
                return UnexpectedEvent(
                    f"{etype}: trailers were not announced (http.response.start had no "
                    "trailers=True)"
                )
            if state == BODY:
                return UnexpectedEvent(
                    f"{etype}: the body is not finished; send http.response.body with "
                    "more=False first"
                )
        elif state == TRAILERS:
            return UnexpectedEvent(
                f"{etype}: the body is already complete; only http.response.trailers may follow"
            )
        if state == FINAL:
            return UnexpectedEvent(f"{etype}: the final body is still being sent")
        return UnexpectedEvent(f"{etype}: the response is already complete")


def _open_file(etype: str, path: str | bytes, offset: int, length: int | None) -> int:
    """Open ``path`` for a file body; check the range against its size."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except ValueError as exc:  # e.g. an embedded NUL
        raise InvalidEvent(f"{etype}: invalid file path {path!r:.200}: {exc}") from None
    except OSError as exc:
        raise type(exc)(
            exc.errno, f"{etype}: cannot open file: {exc.strerror}", os.fsdecode(path)
        ) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InvalidEvent(f"{etype}: {os.fsdecode(path)!r} is not a regular file")
        size = st.st_size
        if offset > size:
            raise InvalidEvent(
                f"{etype}: 'offset' {offset} is beyond the end of {os.fsdecode(path)!r} "
                f"({size} bytes)"
            )
        if length is not None and offset + length > size:
            raise InvalidEvent(
                f"{etype}: 'offset' + 'length' ({offset + length}) is beyond the end of "
                f"{os.fsdecode(path)!r} ({size} bytes)"
            )
    except BaseException:
        os.close(fd)
        raise
    return fd
